-- the position component: ecs_agent_position(agent_id), ecs_agents_near(agent_id, radius, max_results)
SET extra_float_digits = 0;
\set VERBOSITY terse
-- errors print their SQLSTATE on the line after

-- pos-o at the origin; pos-1..pos-8 around it; pos-far far away; pos-none
-- without a position
INSERT INTO ecs.agents (agent_id, sex, genome)
SELECT id, 'male', array_fill(0.5::real, ARRAY[16])
  FROM (VALUES ('pos-o'), ('pos-1'), ('pos-2'), ('pos-3'), ('pos-4'), ('pos-5'),
               ('pos-6'), ('pos-7'), ('pos-8'), ('pos-far'), ('pos-none')) v(id);
INSERT INTO ecs.agent_positions (agent_id, x, y) VALUES
    ('pos-o', 0, 0),
    ('pos-1', 1, 0),        -- distance 1
    ('pos-2', 0, -1),       -- distance 1 (tie with pos-1: by id)
    ('pos-3', 3, 4),        -- distance 5 (exactly)
    ('pos-4', -2, 2),       -- distance 2.828...
    ('pos-5', 0, 0),        -- distance 0: same spot
    ('pos-6', 5.000001, 0), -- just outside radius 5
    ('pos-7', -0.5, 0.5),   -- distance 0.707...
    ('pos-8', 10, 10),      -- distance 14.14...
    ('pos-far', 1e6, -1e6);

-- ecs_agent_position: the position, or NULL x and y for an agent without one
SELECT * FROM ecs_agent_position('pos-3');
SELECT * FROM ecs_agent_position('pos-none');
SELECT ecs_agent_position('pos-none') IS NULL AS whole_row_null, (ecs_agent_position('pos-6')).x AS x6;

-- nearest first with the distance, ties by id, the agent itself excluded
SELECT * FROM ecs_agents_near('pos-o', 5, 10);
-- the radius is inclusive and exact (pos-3 at 5 in, pos-6 at 5.000001 out)
SELECT string_agg(neighbor_id, ',' ORDER BY neighbor_id) AS within_5 FROM ecs_agents_near('pos-o', 5, 1000);
SELECT string_agg(neighbor_id, ',' ORDER BY neighbor_id) AS within_4_99 FROM ecs_agents_near('pos-o', 4.99, 1000);
-- radius 0: agents at the very same spot
SELECT * FROM ecs_agents_near('pos-o', 0, 10);
-- max_results keeps the nearest
SELECT neighbor_id, round(distance::numeric, 4) AS distance FROM ecs_agents_near('pos-o', 100, 3);
SELECT count(*) AS one FROM ecs_agents_near('pos-o', 100, 1);
-- Infinity: the nearest at any distance
SELECT neighbor_id, round(distance::numeric, 1) AS distance FROM ecs_agents_near('pos-o', 'Infinity', 1000);
-- from another agent, the origin agents are neighbors too
SELECT neighbor_id, round(distance::numeric, 4) AS distance FROM ecs_agents_near('pos-3', 5, 4);
-- the default max_results is 10
SELECT count(*) AS default_max FROM ecs_agents_near('pos-o', 'Infinity');
-- an agent without a position has no neighbors (and no error)
SELECT count(*) AS no_position FROM ecs_agents_near('pos-none', 100, 10);
-- a neighbor whose position row is deleted disappears; one with a moved
-- position is found at its new place
BEGIN;
DELETE FROM ecs.agent_positions WHERE agent_id = 'pos-1';
UPDATE ecs.agent_positions SET x = 0.1, y = 0 WHERE agent_id = 'pos-8';
SELECT neighbor_id, round(distance::numeric, 4) AS distance FROM ecs_agents_near('pos-o', 1, 10);
ROLLBACK;

-- the query shape ecs_agents_near runs can be answered by the GiST index
-- nearest first (a KNN index scan with the circle as index condition)
SET enable_seqscan = off;
SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT p.agent_id FROM ecs.agent_positions p
 WHERE pg_catalog.point(p.x, p.y) OPERATOR(pg_catalog.<@) pg_catalog.circle(pg_catalog.point(0, 0), 5)
   AND p.agent_id OPERATOR(pg_catalog.<>) 'pos-o'
 ORDER BY pg_catalog.point(p.x, p.y) OPERATOR(pg_catalog.<->) pg_catalog.point(0, 0)
 LIMIT 10;
RESET enable_seqscan;
RESET enable_sort;

-- invalid input: ids
SELECT * FROM ecs_agent_position(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agent_position('p!');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agent_position('pos-nobody');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agents_near(NULL, 1, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agents_near('', 1, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agents_near('pos-nobody', 1, 1);
\echo :LAST_ERROR_SQLSTATE
-- radius: NULL, NaN, negative (-Infinity too) fail; 0 and Infinity pass
SELECT * FROM ecs_agents_near('pos-o', NULL, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agents_near('pos-o', 'NaN', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agents_near('pos-o', -0.001, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agents_near('pos-o', '-Infinity', 1);
\echo :LAST_ERROR_SQLSTATE
-- max_results: 1..1000
SELECT count(*) FROM ecs_agents_near('pos-o', 1, 1000);
SELECT * FROM ecs_agents_near('pos-o', 1, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agents_near('pos-o', 1, 1001);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agents_near('pos-o', 1, -1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_agents_near('pos-o', 1, NULL);
\echo :LAST_ERROR_SQLSTATE
-- argument checks come before the position lookup: bad arguments fail even
-- for an agent without a position
SELECT * FROM ecs_agents_near('pos-none', -1, 1);
\echo :LAST_ERROR_SQLSTATE

-- markings
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict, l.lanname, p.proconfig
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.proname IN ('ecs_agent_position', 'ecs_agents_near')
 ORDER BY 1;

DELETE FROM ecs.agents WHERE agent_id LIKE 'pos-%';
