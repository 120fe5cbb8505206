#-------------------------------------------------------------------------
#
# 006_memory.pl
#		Memory per call stays within its documented bound (docs/ALGORITHMS.md,
#		"Memory per call"): it depends on the packed population, the caps
#		and the result, not on how much work the call does.  Measured as the
#		growth of the backend's peak resident set (VmHWM in /proc) over a
#		second run of the call, the peak being reset after the first.
#
# IDENTIFICATION
#		test/t/006_memory.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

if (!-r "/proc/self/status")
{
	plan skip_all => 'needs /proc/<pid>/status';
}

my $node = PostgreSQL::Test::Cluster->new('memory');
$node->init;
$node->start;

# 20,000 founders and 10,000 children of them, 85% of them active
$node->safe_psql('postgres', q{
CREATE EXTENSION ecs_agents;
SELECT count(*) FROM ecs_spawn(20000, 11, NULL, 'agent');
INSERT INTO ecs.agents (agent_id, sex, generation, active, parent1_id, parent2_id, genome)
SELECT 'kid' || i, CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, 1, i % 7 <> 0,
       'agent' || (1 + (i * 7919) % 20000), 'agent' || (1 + (i * 104729 + 1) % 20000),
       (SELECT genome FROM ecs.agents WHERE agent_id = 'agent' || (1 + i % 20000))
  FROM generate_series(1, 10000) i;
-- a 40-generation chain for deep walks
INSERT INTO ecs.agents (agent_id, sex, generation, genome)
SELECT 'chain0', 'female', 0, genome FROM ecs.agents WHERE agent_id = 'agent1';
DO $$
BEGIN
    FOR g IN 1..40 LOOP
        INSERT INTO ecs.agents (agent_id, sex, generation, parent1_id, parent2_id, genome)
        SELECT 'chain' || g, 'male', g, 'chain' || (g - 1), 'agent' || (100 + g), genome
          FROM ecs.agents WHERE agent_id = 'agent1';
    END LOOP;
END
$$;
VACUUM ANALYZE ecs.agents;
});

# Peak private memory (kB) of one statement: run it once to map the shared
# buffers and caches it touches, reset the peak RSS to the current RSS
# (/proc/<pid>/clear_refs, "5"), run it again and read the new peak.
sub peak_growth
{
	my ($sql) = @_;
	my $out = $node->safe_psql('postgres', qq{
$sql;
SELECT 'rss=' || (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmRSS:\\s+(\\d+)'))[1];
SELECT format('COPY (SELECT 5) TO %L', '/proc/' || pg_backend_pid() || '/clear_refs') \\gexec
$sql;
SELECT 'hwm=' || (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\\s+(\\d+)'))[1];
});
	my ($rss) = $out =~ /^rss=(\d+)$/m;
	my ($hwm) = $out =~ /^hwm=(\d+)$/m;
	die "could not read the memory figures:\n$out" unless defined $rss && defined $hwm;
	return $hwm - $rss;
}

my $small = peak_growth(
	"SELECT count(*) FROM ecs_find_mates_batch((SELECT array_agg('kid' || i) FROM generate_series(1, 250) i), 5)");
my $large = peak_growth(
	"SELECT count(*) FROM ecs_find_mates_batch((SELECT array_agg('kid' || i) FROM generate_series(1, 2000) i), 5)");
note("ecs_find_mates_batch peak growth: 250 agents $small kB, 2000 agents $large kB");
# the bound: the packed array (~26,000 active x 130 B = 3.4 MB), plus the
# pedigree of the agents searched and of their candidates (a few dozen
# nodes each), plus the result -- not the population times the searches
cmp_ok($small, '<', 16 * 1024, 'batch over 250 agents stays under 16 MB');
cmp_ok(($large - $small) / 1750, '<', 32,
	'each further agent searched costs under 32 kB (its pedigree and candidates), not a population scan');

my $pair = peak_growth("SELECT count(*) FROM ecs_pair_population(0, 100)");
note("ecs_pair_population peak growth: $pair kB");
cmp_ok($pair / 26000, '<', 4, 'pairing costs under 4 kB per active agent');

my $walk = peak_growth("SELECT count(*) FROM ecs_lineage('chain40', 32, 'ancestors')");
my $walk_down = peak_growth("SELECT count(*) FROM ecs_lineage('agent101', 32, 'descendants')");
note("deep walks peak growth: up $walk kB, down $walk_down kB");
cmp_ok($walk, '<', 16 * 1024, 'a depth-32 ancestor walk stays under 16 MB');
cmp_ok($walk_down, '<', 16 * 1024, 'a depth-32 descendant walk stays under 16 MB');

my $kin = peak_growth("SET ecs_agents.kinship_depth = 32; SELECT ecs_kinship('chain40', 'chain39')");
note("kinship at depth 32 along the chain: $kin kB");
cmp_ok($kin, '<', 16 * 1024, 'kinship at depth 32 stays under 16 MB');

# repeated calls in one backend do not accumulate
my $repeat = peak_growth(
	"SELECT count(*) FROM generate_series(1, 200) g, ecs_find_mates('kid' || g, 5)");
note("200 ecs_find_mates calls in one statement: $repeat kB");
cmp_ok($repeat, '<', 16 * 1024, '200 mate searches in one statement do not accumulate memory');

$node->stop;
done_testing();
