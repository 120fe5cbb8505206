-- ecs_lineage: bounded walks up, down and both, against a recursive-CTE reference
SET extra_float_digits = 0;
\set VERBOSITY terse
-- errors print their SQLSTATE on the line after
\i test/fixtures/pedigree.sql
\i test/fixtures/reference.sql

-- shape of a result: the start agent at depth 0 (relation self)
SELECT * FROM ecs_lineage('px3_5', 2, 'ancestors') ORDER BY depth, agent_id;
SELECT agent_id, depth, relation FROM ecs_lineage('px7_1', 1, 'both') ORDER BY depth, relation, agent_id;
-- defaults: depth 3, ancestors
SELECT count(*) = (SELECT count(*) FROM ecs_lineage('px9_0', 3, 'ancestors')) AS default_is_3_ancestors
  FROM ecs_lineage('px9_0');
-- depth 0: the agent alone
SELECT agent_id, depth, relation FROM ecs_lineage('px9_0', 0, 'both');

-- every agent of generations 5 and 9, depths 1..6, both directions: the same
-- set and depths as the reference (differences listed; none expected)
CREATE TEMP TABLE lin_cases AS
SELECT a.agent_id::text AS start, d, dir
  FROM ecs.agents a, generate_series(1, 6) d, (VALUES ('ancestors'), ('descendants')) v(dir)
 WHERE a.agent_id LIKE 'px5\_%' OR a.agent_id LIKE 'px9\_%' OR (a.agent_id LIKE 'px1\_%' AND d <= 3);
SELECT count(*) AS cases FROM lin_cases;
SELECT c.start, c.d, c.dir, x.*
  FROM lin_cases c,
  LATERAL ((SELECT agent_id, depth FROM ecs_lineage(c.start, c.d, c.dir)
            EXCEPT SELECT * FROM ecs_ref.lineage(c.start, c.d, c.dir = 'ancestors'))
           UNION ALL
           (SELECT * FROM ecs_ref.lineage(c.start, c.d, c.dir = 'ancestors')
            EXCEPT SELECT agent_id, depth FROM ecs_lineage(c.start, c.d, c.dir))) x
 LIMIT 10;
-- and the walks are not trivial
SELECT dir, d, sum(n) AS rows_returned, max(n) AS largest
  FROM (SELECT c.dir, c.d, (SELECT count(*) FROM ecs_lineage(c.start, c.d, c.dir)) AS n FROM lin_cases c) s
 WHERE d IN (1, 3, 6) GROUP BY dir, d ORDER BY dir, d;
-- both = union of the two walks, each relative once at its smallest depth
SELECT count(*) AS mismatches FROM (
    (SELECT agent_id, depth FROM ecs_lineage('px5_3', 4, 'both')
     EXCEPT
     SELECT agent_id, min(depth)::int FROM (SELECT * FROM ecs_ref.lineage('px5_3', 4, true)
                                            UNION ALL SELECT * FROM ecs_ref.lineage('px5_3', 4, false)) u GROUP BY agent_id)
    UNION ALL
    (SELECT agent_id, count(*)::int FROM ecs_lineage('px5_3', 4, 'both') GROUP BY agent_id HAVING count(*) > 1)) m;

-- NULL arguments: STRICT, no rows
SELECT count(*) FROM ecs_lineage(NULL, 3, 'ancestors');
SELECT count(*) FROM ecs_lineage('px9_0', NULL, 'ancestors');
SELECT count(*) FROM ecs_lineage('px9_0', 3, NULL);

-- limits: depth 0 .. ecs_agents.max_lineage_depth (32)
SELECT count(*) > 0 AS ok FROM ecs_lineage('px9_0', 32, 'ancestors');
SELECT * FROM ecs_lineage('px9_0', 33, 'ancestors');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_lineage('px9_0', -1, 'ancestors');
\echo :LAST_ERROR_SQLSTATE
SET ecs_agents.max_lineage_depth = 5;
SELECT * FROM ecs_lineage('px9_0', 6, 'ancestors');
\echo :LAST_ERROR_SQLSTATE
RESET ecs_agents.max_lineage_depth;
-- invalid input
SELECT * FROM ecs_lineage('px9_0', 3, 'sideways');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_lineage('px9_0', 3, 'Ancestors');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_lineage('p', 3, 'ancestors');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_lineage('px9_0; DROP TABLE ecs.agents', 3, 'ancestors');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_lineage('nobody', 3, 'descendants');
\echo :LAST_ERROR_SQLSTATE
-- a walk that would pass max_lineage_nodes: 54000, nothing partial
SET ecs_agents.max_lineage_nodes = 10;
SELECT count(*) FROM ecs_lineage('px0_0', 9, 'descendants');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ecs_lineage('px9_0', 1, 'ancestors') AS within_limit;
RESET ecs_agents.max_lineage_nodes;

DROP SCHEMA ecs_ref CASCADE;
DELETE FROM ecs.agents WHERE agent_id LIKE 'px%';
