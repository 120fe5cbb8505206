#-------------------------------------------------------------------------
#
# 004_crash_restart.pl
#		stop('immediate') in the middle of writes, restart (crash recovery):
#		no partial write survives (SPEC section 6: "no bad input may ...
#		leave a partial write"), the tables keep their invariants, and
#		amcheck finds every btree index of schema ecs consistent with its
#		heap.
#
# Crashed mid-way: a large ecs_spawn (one statement, many rows), an
# ecs_add_trait rewriting every genome, and a stream of small committed
# writes (relate / interact / re-parent) from a second session.
#
# IDENTIFICATION
#		test/t/004_crash_restart.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "fsync = on\nrestart_after_crash = on\n");
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION ecs_agents;
CREATE EXTENSION amcheck;
SELECT count(*) FROM ecs_spawn(2000, 5, NULL, 'agent');
INSERT INTO ecs.agents (agent_id, generation, parent1_id, parent2_id, genome)
SELECT 'kid' || i, 1, 'agent' || i, 'agent' || (i + 1000),
       (SELECT genome FROM ecs.agents WHERE agent_id = 'agent' || i)
  FROM generate_series(1, 1000) i;
CHECKPOINT;
});

# invariants every committed state must satisfy
sub check_invariants
{
	my ($label) = @_;
	is( $node->safe_psql('postgres', q{
SELECT count(*) FROM ecs.agents
 WHERE array_length(genome, 1) IS DISTINCT FROM (SELECT count(*) FROM ecs.trait_catalog)
    OR array_ndims(genome) <> 1}), '0', "$label: every genome matches the catalog");
	is( $node->safe_psql('postgres', q{
SELECT count(*) FROM ecs.agents a
 WHERE (a.parent1_id IS NOT NULL AND NOT EXISTS (SELECT FROM ecs.agents p WHERE p.agent_id = a.parent1_id))
    OR (a.parent2_id IS NOT NULL AND NOT EXISTS (SELECT FROM ecs.agents p WHERE p.agent_id = a.parent2_id))}),
		'0', "$label: every parent link points at an agent");
	is( $node->safe_psql('postgres', q{
SELECT min(position) = 0 AND max(position) = count(*) - 1 AND count(DISTINCT position) = count(*)
  FROM ecs.trait_catalog}), 't', "$label: catalog positions are dense");
	# amcheck: every btree index of schema ecs, with heapallindexed
	my $idx = $node->safe_psql('postgres', q{
SELECT string_agg(c.oid::regclass::text, ',' ORDER BY c.relname)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = c.relam
 WHERE n.nspname = 'ecs' AND am.amname = 'btree'});
	my ($ret, $out, $err) = $node->psql('postgres', q{
SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = c.relam,
       LATERAL bt_index_check(c.oid, true)
 WHERE n.nspname = 'ecs' AND am.amname = 'btree'});
	is($ret, 0, "$label: amcheck bt_index_check(heapallindexed) passes on $idx") or diag($err);
	cmp_ok($out || 0, '>=', 15, "$label: amcheck looked at every btree index ($out)");
}

check_invariants('before the crashes');

# start a long statement in a background session, wait until it runs for
# a while, then crash the server
sub crash_during
{
	my ($label, $sql, $wait) = @_;
	$wait = "now() - query_start > interval '$wait ms'" if $wait =~ /^\d+$/;
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->{stdin} .= "$sql;\n";
	$bg->{run}->pump_nb();
	$node->poll_query_until('postgres',
		"SELECT state = 'active' AND ($wait) FROM pg_stat_activity WHERE pid = $pid")
	  or die "$label never started";
	$node->stop('immediate');
	eval { $bg->quit; };
	$node->start;
	pass("crash during $label, restarted");
}

# 1. a big spawn: one statement, all rows or none
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM ecs.agents');
crash_during('ecs_spawn(500000)', "SELECT count(*) FROM ecs_spawn(500000, 9, 'wolf', 'big')", 300);
is($node->safe_psql('postgres', "SELECT count(*) FROM ecs.agents WHERE agent_id LIKE 'big%'"),
	'0', 'no agent of the crashed spawn survives');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ecs.agents'), $before, 'the agents are as before');
check_invariants('after a crash during ecs_spawn');

# 2. ecs_add_trait rewriting every genome: the catalog and the genomes agree
$node->safe_psql('postgres', q{
SET session_replication_role = replica;
INSERT INTO ecs.agents (agent_id, generation, genome)
SELECT 'filler' || i, 0, array_fill(0.5::real, ARRAY[16]) FROM generate_series(1, 100000) i;
RESET session_replication_role;
CHECKPOINT;
});
crash_during('ecs_add_trait over 103000 agents', "SELECT ecs_add_trait('crashy', 1, 'similar', 0.05, 0.5)", 300);
is($node->safe_psql('postgres', "SELECT count(*) FROM ecs.trait_catalog WHERE trait_name = 'crashy'"),
	'0', 'the crashed ecs_add_trait left no catalog row');
check_invariants('after a crash during ecs_add_trait');

# 3. many small committed writes: one transaction per iteration
$node->safe_psql('postgres', q{
SET session_replication_role = replica;
DELETE FROM ecs.agents WHERE agent_id LIKE 'filler%';
});
crash_during('a stream of small committed writes', q{DO $$
BEGIN
    FOR i IN 1..100000 LOOP
        PERFORM ecs_relate('agent' || (1 + i % 1999), 'agent' || (2 + i % 1999), 'friend', 0.5);
        PERFORM ecs_interact('agent' || (1 + i % 1999), 'agent' || (2 + i % 1999), 'meet', 0.25);
        UPDATE ecs.agents SET parent2_id = 'agent' || (1002 + i % 999) WHERE agent_id = 'kid' || (1 + i % 999);
        COMMIT;
    END LOOP;
END
$$}, 'SELECT count(*) > 300 FROM ecs.agent_interactions');
my $n_int = $node->safe_psql('postgres', 'SELECT count(*) FROM ecs.agent_interactions');
cmp_ok($n_int, '>', 200, "committed interactions survive the crash ($n_int)");
is( $node->safe_psql('postgres', q{
SELECT count(*) FROM ecs.agent_relationships
 WHERE NOT (agent1_id::text COLLATE "C" < agent2_id::text COLLATE "C") OR strength <> 0.5}),
	'0', 'every relationship row is whole and ordered');
check_invariants('after a crash during a stream of writes');

# the writers work once the server is back
$node->safe_psql('postgres', "SELECT ecs_add_trait('steady', 1, 'similar', 0.05, 0.25)");
is($node->safe_psql('postgres', "SELECT count(*) FROM ecs.agents WHERE genome[17] = 0.25"),
	$node->safe_psql('postgres', 'SELECT count(*) FROM ecs.agents'), 'a later ecs_add_trait reaches every genome');
# the functions work on the recovered data
is($node->safe_psql('postgres', "SELECT count(*) FROM ecs_lineage('kid5', 1, 'ancestors')"),
	'3', 'walks work after recovery');
ok($node->log_contains('database system was not properly shut down'), 'crash recovery did run');

$node->stop;
done_testing();
