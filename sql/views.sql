-- the ecs views: agent_overview, enabled_spirits, function_stats, and
-- ecs_statement_stats()
SET extra_float_digits = 0;

INSERT INTO ecs.agents (agent_id, name, sex, spirit_id, genome)
SELECT id, 'Name of ' || id, 'female', 'fox', array_fill(0.5::real, ARRAY[16])
  FROM (VALUES ('vw-a'), ('vw-b'), ('vw-c')) v(id);
INSERT INTO ecs.agent_positions VALUES ('vw-a', 1.5, -2);
SELECT ecs_interact('vw-a', 'vw-b') IS NOT NULL AS i1, ecs_interact('vw-a', 'vw-c') IS NOT NULL AS i2,
       ecs_interact('vw-b', 'vw-a') IS NOT NULL AS i3;
SELECT (ecs_relate('vw-a', 'vw-b', 'friend', 0.5)).kind, (ecs_relate('vw-c', 'vw-a', 'rival', -0.5)).kind,
       (ecs_relate('vw-a', 'vw-b', 'mate', 1)).kind;

-- agent_overview: identity, position (NULL when none), social counts
SELECT agent_id, name, sex, spirit_id, generation, active, parent1_id, parent2_id, x, y,
       relationships, interactions_initiated, interactions_received
  FROM ecs.agent_overview WHERE agent_id LIKE 'vw-%' ORDER BY agent_id;
-- the counts agree with ecs_social_stats
SELECT o.agent_id, o.relationships = s.relationships AS rel_ok,
       o.interactions_initiated = s.initiated AND o.interactions_received = s.received AS int_ok
  FROM ecs.agent_overview o CROSS JOIN LATERAL ecs_social_stats(o.agent_id) s
 WHERE o.agent_id LIKE 'vw-%' ORDER BY o.agent_id;

-- enabled_spirits: the same set as ecs_naming_spirits()
SELECT count(*) AS enabled, bool_or(spirit_id = 'phoenix') AS has_disabled FROM ecs.enabled_spirits;
SELECT (SELECT array_agg(spirit_id ORDER BY spirit_id) FROM ecs.enabled_spirits)
     = (SELECT array_agg(spirit_id ORDER BY spirit_id) FROM ecs_naming_spirits()) AS same_as_function;

-- every view is security_invoker
SELECT c.relname, c.reloptions
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'ecs' AND c.relkind = 'v' ORDER BY c.relname;

-- function_stats: PostgreSQL's own per-function statistics, filtered to
-- the extension's functions.  Counted with track_functions = all; a
-- session's counts reach the view once flushed (forced here)
SET track_functions = 'all';
SELECT count(ecs_generate_name('wolf', i)) FROM generate_series(1, 5) i;
SELECT ecs_agent_position('vw-a') IS NOT NULL AS called;
SELECT count(ecs_agent_position('vw-a')) FROM generate_series(1, 4);
SELECT pg_stat_force_next_flush();
SELECT function, calls >= 5 AS counted, total_time >= self_time AS times_ok
  FROM ecs.function_stats
 WHERE function IN ('ecs_generate_name(text,bigint)', 'ecs_agent_position(text)')
 ORDER BY function;
-- functions of other extensions or users are not listed
CREATE FUNCTION pg_temp.not_ours() RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT pg_temp.not_ours();
SELECT count(*) AS foreign_rows FROM ecs.function_stats WHERE function NOT LIKE 'ecs\_%';
RESET track_functions;

-- ecs_statement_stats(): no rows without pg_stat_statements (the regression
-- server does not preload it), and no dependency on it
SELECT count(*) AS statement_rows FROM ecs_statement_stats();
-- installed: rows when the library is preloaded (this file's own calls),
-- none and no error when it is not (its view would raise 55000)
BEGIN;
CREATE EXTENSION pg_stat_statements;
SELECT (count(*) > 0) = (current_setting('shared_preload_libraries') ~ 'pg_stat_statements') AS rows_iff_preloaded
  FROM ecs_statement_stats();
SELECT coalesce(bool_and(query ~ 'ecs_[a-z_]+\s*\('), true) AS only_ecs_calls FROM ecs_statement_stats();
ROLLBACK;
SELECT count(*) AS depends_on_pgss FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE e.extname = 'pg_stat_statements';

-- markings and comments of everything in this issue
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict, l.lanname,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.proname IN ('ecs_social_stats', 'ecs_agent_position', 'ecs_agents_near', 'ecs_generate_name',
                     'ecs_naming_spirits', 'ecs_breed', 'ecs_statement_stats')
 ORDER BY 1;
SELECT c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'ecs' AND c.relname IN ('agent_overview', 'enabled_spirits', 'function_stats')
 ORDER BY 1;

DELETE FROM ecs.agents WHERE agent_id LIKE 'vw-%';
