#-------------------------------------------------------------------------
#
# 005_upgrade.pl
#		The upgrade path: a database created at the first version (1.0) and
#		brought to the default version with ALTER EXTENSION ecs_agents
#		UPDATE keeps every row and ends with exactly the objects a fresh
#		CREATE EXTENSION makes (the \dx+ member list, and every function's
#		definition and markings).
#
#		1.0 -> 1.1 adds the genome index (access method, operator, the
#		index on ecs.agents) and makes the social indexes covering; the
#		test also compares every index definition in schema ecs.
#
# IDENTIFICATION
#		test/t/005_upgrade.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

my $default = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'ecs_agents'");
my $versions = $node->safe_psql('postgres',
	"SELECT string_agg(version, ' ' ORDER BY version) FROM pg_available_extension_versions WHERE name = 'ecs_agents'");
note("default version $default; available: $versions");
ok($versions =~ /\b1\.0\b/, 'version 1.0 is installable');

# the old version, with data in every table
$node->safe_psql('postgres', 'CREATE DATABASE old_db');
$node->safe_psql('old_db', q{
CREATE EXTENSION ecs_agents VERSION '1.0';
SELECT count(*) FROM ecs_spawn(30, 5, NULL, 'agent');
INSERT INTO ecs.agents (agent_id, sex, generation, parent1_id, parent2_id, genome)
SELECT 'kid' || i, 'female', 1, 'agent' || i, 'agent' || (i + 1),
       (SELECT genome FROM ecs.agents WHERE agent_id = 'agent' || i)
  FROM generate_series(1, 10) i;
SELECT ecs_relate('agent1', 'agent2', 'mate', 0.5);
SELECT ecs_interact('agent3', 'agent4', 'meet', 0.25);
INSERT INTO ecs.agent_positions VALUES ('agent1', 1, 2), ('agent2', 3, 4);
UPDATE ecs.naming_spirits SET enabled = false WHERE spirit_id = 'hawk';
});
my $rows_q = q{
SELECT 'agents', count(*), md5(string_agg(a::text, ',' ORDER BY agent_id)) FROM ecs.agents a
UNION ALL SELECT 'relationships', count(*), md5(string_agg(r::text, ',' ORDER BY agent1_id, agent2_id, kind)) FROM ecs.agent_relationships r
UNION ALL SELECT 'interactions', count(*), md5(string_agg(i::text, ',' ORDER BY interaction_id)) FROM ecs.agent_interactions i
UNION ALL SELECT 'positions', count(*), md5(string_agg(p::text, ',' ORDER BY agent_id)) FROM ecs.agent_positions p
UNION ALL SELECT 'spirits', count(*), md5(string_agg(s::text, ',' ORDER BY spirit_id)) FROM ecs.naming_spirits s
UNION ALL SELECT 'traits', count(*), md5(string_agg(t::text, ',' ORDER BY position)) FROM ecs.trait_catalog t
};
my $before = $node->safe_psql('old_db', $rows_q);

$node->safe_psql('old_db', 'ALTER EXTENSION ecs_agents UPDATE');
is($node->safe_psql('old_db', "SELECT extversion FROM pg_extension WHERE extname = 'ecs_agents'"),
	$default, 'updated to the default version');
is($node->safe_psql('old_db', $rows_q), $before, 'every row kept by the update');

# the same objects as a fresh install
$node->safe_psql('postgres', 'CREATE DATABASE fresh_db');
$node->safe_psql('fresh_db', 'CREATE EXTENSION ecs_agents');
my $members_q = q{
SELECT pg_describe_object(classid, objid, objsubid)
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ecs_agents')
 ORDER BY 1
};
is($node->safe_psql('old_db', $members_q), $node->safe_psql('fresh_db', $members_q),
	'the updated extension has the members of a fresh install (\dx+)');
my $functions_q = q{
SELECT p.oid::regprocedure::text, p.provolatile, p.proparallel, p.proisstrict,
       coalesce(p.proconfig::text, ''), md5(p.prosrc)
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ecs_agents')
 ORDER BY 1
};
is($node->safe_psql('old_db', $functions_q), $node->safe_psql('fresh_db', $functions_q),
	'every function has the definition and markings of a fresh install');
my $columns_q = q{
SELECT table_name, column_name, data_type, is_nullable
  FROM information_schema.columns WHERE table_schema = 'ecs' ORDER BY 1, 2
};
is($node->safe_psql('old_db', $columns_q), $node->safe_psql('fresh_db', $columns_q),
	'every table and column of a fresh install');

my $indexes_q = q{
SELECT indexdef FROM pg_indexes WHERE schemaname = 'ecs' ORDER BY 1
};
is($node->safe_psql('old_db', $indexes_q), $node->safe_psql('fresh_db', $indexes_q),
	'every index of a fresh install, with its definition');

my $triggers_q = q{
SELECT c.relname, pg_get_triggerdef(t.oid), t.tgenabled,
       coalesce(obj_description(t.tgfoid, 'pg_proc'), '')
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'ecs'::regnamespace AND NOT t.tgisinternal ORDER BY 1, 2
};
is($node->safe_psql('old_db', $triggers_q), $node->safe_psql('fresh_db', $triggers_q),
	'every trigger of a fresh install, with its definition and its function\'s comment');
is($node->safe_psql('old_db', "SELECT ecs_genome_index_check('ecs.agents_genome_idx')"),
	$node->safe_psql('old_db', 'SELECT count(*) FROM ecs.agents'),
	'the genome index built by the update covers every agent');

# and it works: a read and a write after the update
is($node->safe_psql('old_db', "SELECT count(*) FROM ecs_find_mates('kid1', 3)"), '3',
	'mate search works after the update');
is($node->safe_psql('old_db', "SELECT count(*) FROM ecs_spawn(2, 9, NULL, 'agent')"), '2',
	'writers work after the update');

$node->stop;
done_testing();
