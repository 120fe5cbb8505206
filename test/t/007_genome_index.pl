#-------------------------------------------------------------------------
#
# 007_genome_index.pl
#		The ecs_genome index (issue 9) on a streaming standby and across a
#		crash: the standby's index, built and changed only through generic
#		WAL, answers ORDER BY genome <~> query and ecs_find_mates exactly
#		as the primary's and as a sort does; after inserts, updates,
#		deletes (some moving rows between the index's sex groups) and
#		VACUUM on the primary, the same; after an immediate
#		stop (no checkpoint) and restart, the index passes its structural
#		check, holds one entry per row and still answers exactly.
#
# IDENTIFICATION
#		test/t/007_genome_index.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('gi_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "checkpoint_timeout = '1h'\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION ecs_agents');
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('gi_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# rows after the base backup: they reach the standby's index through WAL only
$primary->safe_psql('postgres', q{
SELECT count(*) FROM ecs_spawn(4000, 4242, NULL, 'gi');
});

# the first 25 rows by distance from three agents' mate queries, through the
# index; the same through a sort (random genomes: no ties, so one order);
# ecs_find_mates of those agents
my $ids = "ARRAY['gi7', 'gi1233', 'gi3999']";
my $by_index = qq{
SET enable_seqscan = off;
SELECT string_agg(q.id || '>' || s.agent_id || ':' || round((s.d)::numeric, 12), ',' ORDER BY q.id, s.n)
  FROM unnest($ids) q(id),
       LATERAL (SELECT agent_id, d, row_number() OVER () AS n FROM (
                  SELECT agent_id, genome <~> ecs_mate_query(q.id) AS d FROM ecs.agents
                   ORDER BY genome <~> ecs_mate_query(q.id) LIMIT 25) x) s
};
(my $by_sort = $by_index) =~ s/enable_seqscan = off/enable_indexscan = off/;
# the same among agents not female (male or without a sex): the index skips
# a group of entries (its second column, sex), the executor rechecks
(my $by_index_sex = $by_index) =~
  s/FROM ecs\.agents\n/FROM ecs.agents WHERE sex <!> 'female'\n/;
(my $by_sort_sex = $by_index_sex) =~ s/enable_seqscan = off/enable_indexscan = off/;
my $mates = qq{SELECT string_agg(m::text, ',') FROM unnest($ids) q(id), LATERAL ecs_find_mates(q.id, 8) m};
my $plan = q{SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT agent_id FROM ecs.agents WHERE sex <!> 'female' ORDER BY genome <~> ecs_mate_query('gi7') LIMIT 5};

sub compare_all
{
	my ($when) = @_;
	$primary->wait_for_catchup($standby);
	like($standby->safe_psql('postgres', $plan), qr/Index Scan using agents_genome_idx.*\n.*Index Cond: \(sex <!> 'female'::text\)/,
		"$when: the standby plans the index scan, the sex filter as its condition");
	my $p = $primary->safe_psql('postgres', $by_index);
	isnt($p, '', "$when: the index returns rows");
	is($primary->safe_psql('postgres', $by_sort), $p, "$when: primary index order = sort order");
	is($standby->safe_psql('postgres', $by_index), $p, "$when: standby index order = primary's");
	my $ps = $primary->safe_psql('postgres', $by_index_sex);
	isnt($ps, $p, "$when: the sex filter changes the answer");
	is($primary->safe_psql('postgres', $by_sort_sex), $ps, "$when: with the sex filter, primary index order = sort order");
	is($standby->safe_psql('postgres', $by_index_sex), $ps, "$when: with the sex filter, standby = primary");
	is($standby->safe_psql('postgres', $mates), $primary->safe_psql('postgres', $mates),
		"$when: ecs_find_mates on the standby = on the primary");
	is($standby->safe_psql('postgres', "SELECT ecs_genome_index_check('ecs.agents_genome_idx', true)"),
		$primary->safe_psql('postgres', 'SELECT count(*) FROM ecs.agents'),
		"$when: the standby's index passes its check, one entry per row") if $when =~ /vacuum/;
}

compare_all('after the inserts');

# updates (new entries, old ones dead), deletes, VACUUM (slots freed),
# inserts again (freed slots reused)
$primary->safe_psql('postgres', q{
UPDATE ecs.agents SET genome = ARRAY(SELECT ecs_random(substr(agent_id, 3)::int8 + 77, t)::real FROM generate_series(1, 16) t)
 WHERE agent_id IN (SELECT 'gi' || i FROM generate_series(100, 400, 3) i);
UPDATE ecs.agents SET sex = CASE sex WHEN 'female' THEN 'male' WHEN 'male' THEN NULL ELSE 'female' END
 WHERE agent_id IN (SELECT 'gi' || i FROM generate_series(2, 3999, 5) i);
DELETE FROM ecs.agents WHERE agent_id IN (SELECT 'gi' || i FROM generate_series(500, 1500, 2) i);
VACUUM ecs.agents;
SELECT count(*) FROM ecs_spawn(300, 99, NULL, 'gj');
});
compare_all('after updates, deletes, vacuum and inserts');

# crash: no checkpoint since the changes, so recovery replays them
my $before = $primary->safe_psql('postgres', $by_index);
$primary->safe_psql('postgres', q{
SELECT count(*) FROM ecs_spawn(200, 5, NULL, 'gk');
DELETE FROM ecs.agents WHERE agent_id IN (SELECT 'gk' || i FROM generate_series(1, 200, 4) i);
});
my $expected = $primary->safe_psql('postgres', $by_sort);
$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', "SELECT ecs_genome_index_check('ecs.agents_genome_idx', heapallindexed => true) >= count(*) FROM ecs.agents"),
	't', 'after the crash: the index passes its check, every row has an entry with its codes');
is($primary->safe_psql('postgres', $by_index), $expected, 'after the crash: index order = sort order before the crash');
is($primary->safe_psql('postgres', $by_sort), $expected, 'after the crash: the sort agrees');
$primary->safe_psql('postgres', 'VACUUM ecs.agents');
is($primary->safe_psql('postgres', "SELECT ecs_genome_index_check('ecs.agents_genome_idx') = count(*) FROM ecs.agents"),
	't', 'after the crash and VACUUM: one entry per row');
$primary->safe_psql('postgres', q{SELECT count(*) FROM ecs_spawn(50, 6, NULL, 'gl')});
compare_all('after the crash, more inserts, on the restarted primary');

done_testing();
