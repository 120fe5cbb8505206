-- ecs_compatibility, _explain, _batch: SPEC section 3 against the SQL reference
SET extra_float_digits = 0;
\set VERBOSITY terse
-- errors print their SQLSTATE on the line after
\i test/fixtures/pedigree.sql
\i test/fixtures/reference.sql

-- a worked example: identical genomes score 1 on similar traits only
SELECT round(ecs_ref.trait_score('px1_0', 'px1_22')::numeric, 12) AS clone_score,
       (SELECT genome FROM ecs.agents WHERE agent_id = 'px1_0') = (SELECT genome FROM ecs.agents WHERE agent_id = 'px1_22') AS same_genome;
SELECT round(trait_score::numeric, 10) AS trait_score, relatedness, round(final_score::numeric, 10) AS final_score, eligible, reason
  FROM ecs_compatibility_explain('px9_0', 'px9_1');

CREATE TEMP TABLE cmp_pairs AS
SELECT 'px9_' || i AS a, 'px' || g || '_' || j AS b
  FROM generate_series(0, 23) i, generate_series(7, 9) g, generate_series(0, 23, 3) j;
SELECT count(*) AS pairs FROM cmp_pairs;

-- trait score, relatedness, final score and eligibility agree with the reference
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE abs(e.trait_score - ecs_ref.trait_score(a, b)) > 1e-9) AS trait_mismatches,
       count(*) FILTER (WHERE abs(e.relatedness - 2 * ecs_ref.kinship(a, b, 4)) > 1e-12) AS r_mismatches,
       count(*) FILTER (WHERE abs(e.final_score - ecs_ref.final_score(a, b, 4, 1.0)) > 1e-9) AS final_mismatches,
       count(*) FILTER (WHERE e.eligible IS DISTINCT FROM ecs_ref.eligible(a, b, 4, 0.25)) AS eligibility_mismatches,
       count(*) FILTER (WHERE e.eligible) AS eligible,
       count(*) FILTER (WHERE e.relatedness > 0) AS related
  FROM cmp_pairs, LATERAL ecs_compatibility_explain(a, b) e;
-- ecs_compatibility is explain's final score; trait score is symmetric
SELECT count(*) FILTER (WHERE ecs_compatibility(a, b) <> e.final_score) AS final_differs,
       count(*) FILTER (WHERE e.trait_score <> (SELECT trait_score FROM ecs_compatibility_explain(b, a))) AS asymmetric
  FROM cmp_pairs, LATERAL ecs_compatibility_explain(a, b) e;
-- the penalty setting
SET ecs_agents.kinship_penalty = 3;
SELECT count(*) FILTER (WHERE abs(ecs_compatibility(a, b) - ecs_ref.final_score(a, b, 4, 3)) > 1e-9) AS mismatches_penalty_3,
       count(*) FILTER (WHERE ecs_compatibility(a, b) = 0) AS zeroed
  FROM cmp_pairs;
RESET ecs_agents.kinship_penalty;
SET ecs_agents.max_relatedness = 0.5;
SELECT count(*) FILTER (WHERE e.eligible IS DISTINCT FROM ecs_ref.eligible(a, b, 4, 0.5)) AS mismatches_max_r_half,
       count(*) FILTER (WHERE e.eligible) AS eligible
  FROM cmp_pairs, LATERAL ecs_compatibility_explain(a, b) e;
RESET ecs_agents.max_relatedness;

-- every reason
SELECT a, b, eligible, reason FROM (VALUES ('px9_0', 'px9_0'), ('px9_0', 'px9_2'), ('px9_1', 'px9_0'),
                                           ('px0_0', 'px0_1')) v(a, b),
       LATERAL ecs_compatibility_explain(a, b) ORDER BY a, b;
SELECT b, active, (ecs_compatibility_explain('px9_0', b)).reason
  FROM (SELECT agent_id::text AS b, active FROM ecs.agents WHERE agent_id LIKE 'px9%' AND NOT active ORDER BY agent_id LIMIT 1) s;
SELECT (ecs_compatibility_explain('px9_0', 'px8_3')).*, 2 * ecs_ref.kinship('px9_0', 'px8_3', 4) AS ref_r;

-- batch: the same scores, in input order, one call
SELECT count(*) AS rows, count(*) FILTER (WHERE x.score <> ecs_compatibility(x.agent1_id, x.agent2_id)) AS differ
  FROM ecs_compatibility_batch((SELECT array_agg(a ORDER BY a, b) FROM cmp_pairs),
                               (SELECT array_agg(b ORDER BY a, b) FROM cmp_pairs)) x;
SELECT * FROM ecs_compatibility_batch(ARRAY['px9_2', 'px9_0', 'px9_0'], ARRAY['px9_3', 'px9_1', 'px9_1']) x
  WHERE x.score IS NULL;
SELECT agent1_id, agent2_id FROM ecs_compatibility_batch(ARRAY['px9_2', 'px9_0', 'px9_0'], ARRAY['px9_3', 'px9_1', 'px9_0']);
SELECT count(*) FROM ecs_compatibility_batch('{}', '{}');

-- batch, against the reference directly: the S-set filter skips kinship
-- for pairs whose sub-pedigrees cannot meet, marking S(a[i]) once per run of
-- equal a[i].  Pairs in an order that alternates a[i] and in runs, the same
-- agent twice, founders, and pairs related only through a parent link that
-- reaches past the depth from one side (a grandparent at depth 1), at
-- kinship depths 1 and 4; rows come back in input order
CREATE TEMP TABLE cmp_mix AS
SELECT row_number() OVER (ORDER BY run, md5(a || b)) AS k, a, b FROM (
    SELECT 0 AS run, 'px' || g1 || '_' || i AS a, 'px' || g2 || '_' || j AS b
      FROM (VALUES (8), (9)) v1(g1), generate_series(0, 23, 7) i,
           (VALUES (0), (6), (7), (8), (9)) v2(g2), generate_series(1, 23, 6) j
    UNION ALL
    SELECT 1, 'px9_5', 'px' || g || '_' || j FROM generate_series(5, 8) g, generate_series(0, 23, 5) j
    UNION ALL
    SELECT 2, 'px9_2', 'px9_2'
    UNION ALL
    SELECT 2, 'px0_3', 'px0_4') s;
SELECT count(*) AS pairs, count(DISTINCT a) AS first_agents FROM cmp_mix;
SET ecs_agents.kinship_depth = 1;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE x.agent1_id <> m.a OR x.agent2_id <> m.b) AS out_of_order,
       count(*) FILTER (WHERE abs(x.score - ecs_ref.final_score(m.a, m.b, 1, 1.0)) > 1e-9) AS mismatches,
       count(*) FILTER (WHERE m.a <> m.b AND ecs_ref.kinship(m.a, m.b, 1) > 0) AS related,
       count(*) FILTER (WHERE m.a <> m.b AND ecs_ref.kinship(m.a, m.b, 1) > 0
                          AND NOT EXISTS (SELECT FROM ecs_lineage(m.a, 1) l1, ecs_lineage(m.b, 1) l2
                                           WHERE l1.agent_id = l2.agent_id)) AS related_past_depth
  FROM ecs_compatibility_batch((SELECT array_agg(a ORDER BY k) FROM cmp_mix),
                               (SELECT array_agg(b ORDER BY k) FROM cmp_mix)) WITH ORDINALITY x(agent1_id, agent2_id, score, n)
  JOIN cmp_mix m ON m.k = x.n;
RESET ecs_agents.kinship_depth;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE abs(x.score - ecs_ref.final_score(m.a, m.b, 4, 1.0)) > 1e-9) AS mismatches,
       count(*) FILTER (WHERE m.a <> m.b AND ecs_ref.kinship(m.a, m.b, 4) > 0) AS related,
       count(*) FILTER (WHERE m.a <> m.b AND ecs_ref.kinship(m.a, m.b, 4) = 0) AS unrelated
  FROM ecs_compatibility_batch((SELECT array_agg(a ORDER BY k) FROM cmp_mix),
                               (SELECT array_agg(b ORDER BY k) FROM cmp_mix)) WITH ORDINALITY x(agent1_id, agent2_id, score, n)
  JOIN cmp_mix m ON m.k = x.n;

-- NULL arguments: STRICT
SELECT ecs_compatibility(NULL, 'px9_0') IS NULL AS c, (ecs_compatibility_explain('px9_0', NULL)) IS NULL AS e;
SELECT count(*) FROM ecs_compatibility_batch(NULL, ARRAY['px9_0']);

-- invalid input
SELECT ecs_compatibility('px9_0', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_compatibility('px9_0', 'nobody');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_compatibility_explain('nobody', 'px9_0');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_compatibility_batch(ARRAY['px9_0', 'px9_1'], ARRAY['px9_2']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_compatibility_batch(ARRAY['px9_0', NULL], ARRAY['px9_2', 'px9_3']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_compatibility_batch(ARRAY[['px9_0'], ['px9_1']], ARRAY[['px9_2'], ['px9_3']]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_compatibility_batch(ARRAY['px9_0'], ARRAY['no pe']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_compatibility_batch(ARRAY['px9_0'], ARRAY['nobody']);
\echo :LAST_ERROR_SQLSTATE

-- a genome that no longer matches the catalog (written with triggers off)
ALTER TABLE ecs.agents DISABLE TRIGGER agents_before_write;
UPDATE ecs.agents SET genome = genome[1:15] WHERE agent_id = 'px9_5';
ALTER TABLE ecs.agents ENABLE TRIGGER agents_before_write;
SELECT ecs_compatibility('px9_0', 'px9_5');
\echo :LAST_ERROR_SQLSTATE

DROP SCHEMA ecs_ref CASCADE;
ALTER TABLE ecs.agents DISABLE TRIGGER agents_before_write;
DELETE FROM ecs.agents WHERE agent_id LIKE 'px%';
ALTER TABLE ecs.agents ENABLE TRIGGER agents_before_write;
