#-------------------------------------------------------------------------
#
# 003_replica.pl
#		A streaming hot standby answers the read functions exactly as the
#		primary does (SPEC sections 4 and 9: readers are STABLE PARALLEL
#		SAFE and write nothing), in serial and in forced-parallel plans;
#		writers are refused there with 25006.
#
# IDENTIFICATION
#		test/t/003_replica.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION ecs_agents');
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# data written after the base backup reaches the standby through WAL only
$primary->safe_psql('postgres', q{
SELECT count(*) FROM ecs_spawn(60, 777, NULL, 'agent');
INSERT INTO ecs.agents (agent_id, name, sex, spirit_id, generation, parent1_id, parent2_id, genome)
SELECT 'kid' || i, 'Kid ' || i, CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, 'owl', 1,
       'agent' || (2 * i - 1), 'agent' || (2 * i),
       (SELECT genome FROM ecs.agents WHERE agent_id = 'agent' || (2 * i - 1))
  FROM generate_series(1, 20) i;
INSERT INTO ecs.agents (agent_id, sex, generation, parent1_id, parent2_id, genome)
SELECT 'gkid' || i, CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, 2,
       'kid' || i, 'kid' || (i + 1), (SELECT genome FROM ecs.agents WHERE agent_id = 'kid' || i)
  FROM generate_series(1, 19) i;
SELECT count(*) FROM (SELECT ecs_relate('agent' || i, 'agent' || (i + 1), 'mate', 0.5) FROM generate_series(1, 40, 2) i) x;
SELECT count(*) FROM (SELECT ecs_interact('agent' || i, 'agent' || (i + 3), 'meet', 0.25,
                                          timestamptz '2024-01-01 00:00:00+00' + i * interval '1 day')
                        FROM generate_series(1, 50) i) x;
INSERT INTO ecs.agent_positions SELECT agent_id, length(agent_id) * 1.5, 2.0 FROM ecs.agents;
SELECT ecs_add_trait('cunning', 1.1, 'similar', 0.03, 0.75);
});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM ecs.agents'),
	$primary->safe_psql('postgres', 'SELECT count(*) FROM ecs.agents'), 'the standby has the agents');

my @queries = (
	"SELECT string_agg(agent_id || ':' || depth || ':' || relation || ':' || generation || ':' || coalesce(sex, '-'), ',' ORDER BY depth, agent_id) FROM ecs_lineage('gkid3', 3, 'ancestors')",
	"SELECT string_agg(agent_id || ':' || depth, ',' ORDER BY depth, agent_id) FROM ecs_lineage('agent5', 3, 'descendants')",
	"SELECT string_agg(agent_id || ':' || depth || ':' || relation, ',' ORDER BY depth, agent_id) FROM ecs_lineage('kid4', 2, 'both')",
	"SELECT count(*) || ':' || sum(depth) FROM ecs.agents a, LATERAL ecs_lineage(a.agent_id, 5, 'both') l",
	"SELECT ecs_check_agent('kid7')",
	"SELECT ecs_check_spirit('owl')",
	"SELECT ecs_validate_agent_id('agent-x_1')",
	"SELECT ecs_generate_name('wolf', 12345)",
	"SELECT ecs_random(1, 2) || ':' || ecs_random_gaussian(3, 4)",
	"SELECT count(*) || ':' || round(sum(value)::numeric, 3) FROM ecs.agent_traits",
);
# functions of later issues, when they exist
my %have = map { $_ => 1 } split /\n/, $primary->safe_psql('postgres',
	"SELECT proname FROM pg_proc WHERE proname LIKE 'ecs\\_%'");
push @queries, "SELECT ecs_kinship('gkid3', 'gkid4') || ':' || ecs_kinship('gkid3', 'gkid3')" if $have{ecs_kinship};
push @queries, "SELECT ecs_relatedness('kid1', 'kid2') || ':' || ecs_relatedness('gkid1', 'gkid2')" if $have{ecs_relatedness};
push @queries, "SELECT string_agg(a.agent_id || '=' || ecs_inbreeding(a.agent_id), ',' ORDER BY a.agent_id) FROM ecs.agents a WHERE a.generation = 2" if $have{ecs_inbreeding};
push @queries, "SELECT string_agg(round(ecs_compatibility('agent1', agent_id)::numeric, 10)::text, ',' ORDER BY agent_id) FROM ecs.agents WHERE agent_id <> 'agent1'" if $have{ecs_compatibility};
push @queries, "SELECT (ecs_compatibility_explain('gkid2', 'gkid5'))::text" if $have{ecs_compatibility_explain};
push @queries, "SELECT string_agg(x::text, ',' ORDER BY x::text) FROM ecs_compatibility_batch(ARRAY['agent1', 'kid1', 'gkid1'], ARRAY['agent2', 'kid2', 'gkid2']) x" if $have{ecs_compatibility_batch};
push @queries, "SELECT string_agg(x::text, ',') FROM ecs_find_mates('kid3', 10) x" if $have{ecs_find_mates};
push @queries, "SELECT string_agg(x::text, ',') FROM ecs_find_mates_batch(ARRAY['kid3', 'agent9'], 5) x" if $have{ecs_find_mates_batch};
push @queries, "SELECT string_agg(x::text, ',') FROM ecs_pair_population(0.1, 20) x" if $have{ecs_pair_population};
push @queries, "SELECT x::text FROM ecs_social_stats('agent4') x" if $have{ecs_social_stats};
push @queries, "SELECT ecs_agent_position('agent4')::text" if $have{ecs_agent_position};
push @queries, "SELECT string_agg(x::text, ',') FROM ecs_agents_near('agent4', 5, 10) x" if $have{ecs_agents_near};
push @queries, "SELECT string_agg(x::text, ',' ORDER BY x::text) FROM ecs_naming_spirits() x" if $have{ecs_naming_spirits};
push @queries, "SELECT string_agg(x::text, ',' ORDER BY x::text) FROM ecs.agent_overview x WHERE generation = 1" if $have{ecs_social_stats};

foreach my $q (@queries)
{
	my $p = $primary->safe_psql('postgres', $q);
	isnt($p, '', "primary answers: $q");
	is($standby->safe_psql('postgres', $q), $p, "standby answers the same: $q");
	# forced parallel plans run the PARALLEL SAFE functions in a worker
	my $par = "SET max_parallel_workers_per_gather = 2; SET force_parallel_mode = regress; $q";
	is($standby->safe_psql('postgres', $par), $p, "standby, forced parallel: $q");
	is($primary->safe_psql('postgres', $par), $p, "primary, forced parallel: $q");
}

# the writers are refused on the standby with 25006, nothing else
foreach my $w (
	"SELECT ecs_spawn(1, 1, 'wolf')",
	"SELECT ecs_relate('agent1', 'agent3', 'friend', 0.5)",
	"SELECT ecs_interact('agent1', 'agent3')",
	"SELECT ecs_add_trait('nope', 1)",
	"SELECT ecs_breed('kid1', 'gkid4')",
	"UPDATE ecs.agents SET active = false WHERE agent_id = 'agent1'")
{
	my ($ret, $out, $err) = $standby->psql('postgres', "\\set VERBOSITY verbose\n$w");
	like($err, qr/ERROR:\s+25006/, "refused on the standby with 25006: $w");
}

# the agent row cache on the standby: one session walks three times (the
# second learns the rows' heap addresses, the third reads them by address,
# checked against the standby's snapshots): the primary's answer each time
my $walk = "SELECT string_agg(agent_id || ':' || depth, ',' ORDER BY depth, agent_id) FROM ecs_lineage('gkid3', 2, 'ancestors')";
my $pwalk = $primary->safe_psql('postgres', $walk);
my ($wret, $wout, $werr) = $standby->psql('postgres',
	"SET client_min_messages = debug2;\n$walk;\n$walk;\n$walk;");
is($wout, join("\n", ($pwalk) x 3), 'the standby walks the same three times in one session');
like($werr, qr/ancestor walk: 7 rows from the agent row cache, 0 looked up/,
	'the third walk on the standby reads its rows by address');

# a later change on the primary is seen by the standby's next call
$primary->safe_psql('postgres', "UPDATE ecs.agents SET parent2_id = 'agent50' WHERE agent_id = 'kid3'");
$primary->wait_for_catchup($standby);
my $q = "SELECT string_agg(agent_id, ',' ORDER BY agent_id) FROM ecs_lineage('kid3', 1, 'ancestors')";
is($standby->safe_psql('postgres', $q), 'agent5,agent50,kid3', 'the standby follows a re-parenting');
ok(!$standby->log_contains('terminated by signal|PANIC'), 'no crashed backend on the standby');

$standby->stop;
$primary->stop;
done_testing();
