--
-- limits: sizes at and just past the caps and the internal buffers of the
-- functions.  Each cap is tested with "this should pass" at the limit and
-- "this should fail" one past it; each internal buffer with a population a
-- little larger than its first allocation, so growing it is exercised.
-- Everything is rolled back; the sequences are put back.
--
\set SHOW_CONTEXT never
\set ON_ERROR_ROLLBACK on
SET extra_float_digits = 0;
SELECT last_value AS seq_last, is_called AS seq_called FROM ecs.agent_number_seq \gset

BEGIN;
SELECT setval('ecs.agent_number_seq', 1, false) IS NOT NULL AS seq_set;
-- 1,100 active founders: more than the first allocation (1,024) of the
-- population the batch and pairing functions load
SELECT count(*) AS spawned FROM ecs_spawn(1100, 4242, NULL, 'lim');
SELECT count(*) AS active FROM ecs.agents WHERE active;
SELECT count(*) AS batch_rows, count(DISTINCT agent_id) AS agents
  FROM ecs_find_mates_batch(ARRAY['lim1', 'lim500', 'lim1100'], 5);
WITH p AS (SELECT * FROM ecs_pair_population(0))
SELECT count(*) > 100 AS pairs_found,
       (SELECT count(DISTINCT x) FROM p, LATERAL (VALUES (p.agent1_id), (p.agent2_id)) v(x)) = 2 * count(*) AS each_agent_once
  FROM p;
SELECT count(*) AS pairs FROM ecs_pair_population(0, 7);
-- the batch answers like ecs_find_mates, agent by agent
SELECT count(*) AS differences FROM (
    (SELECT 'lim500' AS agent_id, mate_id, rank FROM ecs_find_mates('lim500', 5)
     EXCEPT SELECT agent_id, mate_id, rank FROM ecs_find_mates_batch(ARRAY['lim500'], 5))
    UNION ALL
    (SELECT agent_id, mate_id, rank FROM ecs_find_mates_batch(ARRAY['lim500'], 5)
     EXCEPT SELECT 'lim500', mate_id, rank FROM ecs_find_mates('lim500', 5))) d;

-- max_results: 1 and 50 pass, 0, 51, NULL-free extremes fail
SELECT count(*) FROM ecs_find_mates('lim1', 1);
SELECT count(*) FROM ecs_find_mates('lim1', 50);
SELECT count(*) FROM ecs_find_mates('lim1', 0);
\echo sqlstate: :SQLSTATE
SELECT count(*) FROM ecs_find_mates('lim1', 51);
\echo sqlstate: :SQLSTATE
SELECT count(*) FROM ecs_find_mates('lim1', -2147483648);
\echo sqlstate: :SQLSTATE
SELECT count(*) FROM ecs_find_mates_batch(ARRAY['lim1'], 2147483647);
\echo sqlstate: :SQLSTATE

-- batch arrays: 10,001 pairs in one call; unequal lengths, NULL elements,
-- two dimensions refused
SELECT count(*) AS scored, count(score) AS with_score
  FROM ecs_compatibility_batch(ARRAY(SELECT 'lim' || (1 + i % 1100) FROM generate_series(0, 10000) i),
                               ARRAY(SELECT 'lim' || (1 + (i * 7 + 3) % 1100) FROM generate_series(0, 10000) i));
SELECT count(*) FROM ecs_compatibility_batch(ARRAY['lim1', 'lim2'], ARRAY['lim3']);
\echo sqlstate: :SQLSTATE
SELECT count(*) FROM ecs_compatibility_batch(ARRAY['lim1', NULL], ARRAY['lim3', 'lim4']);
\echo sqlstate: :SQLSTATE
SELECT count(*) FROM ecs_compatibility_batch('{{lim1,lim2},{lim3,lim4}}', '{{lim1,lim2},{lim3,lim4}}');
\echo sqlstate: :SQLSTATE
SELECT count(*) FROM ecs_compatibility_batch('{}', '{}');
SELECT count(*) FROM ecs_find_mates_batch(ARRAY(SELECT 'lim' || (1 + i % 1100) FROM generate_series(0, 2999) i), 1);
SELECT count(*) FROM ecs_find_mates_batch('{}', 5);

-- a chain of 40 generations under lim1: walks at and past the caps
INSERT INTO ecs.agents (agent_id, generation, parent1_id, genome)
SELECT 'chain1', 1, 'lim1', genome FROM ecs.agents WHERE agent_id = 'lim2';
DO $$
BEGIN
    FOR g IN 2..40 LOOP
        INSERT INTO ecs.agents (agent_id, generation, parent1_id, genome)
        SELECT 'chain' || g, g, 'chain' || (g - 1), genome FROM ecs.agents WHERE agent_id = 'lim2';
    END LOOP;
END
$$;
-- depth: 0 and max_lineage_depth (32) pass, 33 and -1 fail
SELECT count(*), max(depth) FROM ecs_lineage('chain40', 0, 'ancestors');
SELECT count(*), max(depth) FROM ecs_lineage('chain40', 32, 'ancestors');
SELECT count(*) FROM ecs_lineage('chain40', 33, 'ancestors');
\echo sqlstate: :SQLSTATE
SELECT count(*) FROM ecs_lineage('chain40', -1, 'ancestors');
\echo sqlstate: :SQLSTATE
SELECT count(*) FROM ecs_lineage('chain40', 2147483647, 'ancestors');
\echo sqlstate: :SQLSTATE
SET ecs_agents.max_lineage_depth = 100;
SELECT count(*), max(depth) FROM ecs_lineage('chain40', 100, 'ancestors');
SELECT count(*), max(depth) FROM ecs_lineage('lim1', 100, 'descendants');
RESET ecs_agents.max_lineage_depth;
-- nodes: a walk of exactly max_lineage_nodes agents passes, one more fails
SET ecs_agents.max_lineage_nodes = 33;
SELECT count(*) FROM ecs_lineage('chain40', 32, 'ancestors');
SET ecs_agents.max_lineage_nodes = 32;
SELECT count(*) FROM ecs_lineage('chain40', 32, 'ancestors');
\echo sqlstate: :SQLSTATE
SET ecs_agents.max_lineage_nodes = 1;
SELECT count(*) FROM ecs_lineage('chain40', 0, 'ancestors');
SELECT count(*) FROM ecs_lineage('chain40', 1, 'ancestors');
\echo sqlstate: :SQLSTATE
RESET ecs_agents.max_lineage_nodes;
-- kinship at the deepest setting along the chain
SET ecs_agents.kinship_depth = 32;
SELECT ecs_kinship('chain40', 'chain8') AS phi_32_generations, ecs_kinship('chain40', 'chain7') AS phi_33_generations;
SET ecs_agents.kinship_depth = 0;
SELECT ecs_kinship('chain40', 'chain39') AS phi_depth_0, ecs_kinship('chain40', 'chain40') AS phi_self_depth_0;
RESET ecs_agents.kinship_depth;
ROLLBACK;

SELECT setval('ecs.agent_number_seq', :seq_last, :'seq_called'::bool) IS NOT NULL AS seq_restored;
SELECT count(*) AS agents_left FROM ecs.agents;
