-- ecs_find_mates, ecs_find_mates_batch, ecs_pair_population against brute force
SET extra_float_digits = 0;
\set VERBOSITY terse
-- errors print their SQLSTATE on the line after
\i test/fixtures/pedigree.sql
\i test/fixtures/reference.sql
-- pins the table's row estimate (240), which the batch's choice of path reads
ANALYZE ecs.agents;

-- brute force: every candidate scored by the SQL reference
CREATE TEMP TABLE searchers AS
SELECT agent_id::text AS a FROM ecs.agents
 WHERE agent_id LIKE 'px9\_%' OR agent_id IN ('px0_0', 'px3_4', 'px5_22', 'px7_9');
CREATE TEMP TABLE brute AS
SELECT s.a, b.agent_id::text AS b, ecs_ref.trait_score(s.a, b.agent_id) AS trait,
       2 * ecs_ref.kinship(s.a, b.agent_id, 4) AS r, b.generation, b.active,
       x.sex IS NULL OR b.sex IS NULL OR x.sex <> b.sex AS sexes_ok
  FROM searchers s JOIN ecs.agents x ON x.agent_id = s.a, ecs.agents b WHERE b.agent_id LIKE 'px%';
ALTER TABLE brute ADD final float8, ADD eligible bool;
UPDATE brute SET final = trait * greatest(0, 1 - 1.0 * r), eligible = a <> b AND active AND sexes_ok AND r < 0.25;
SELECT count(*) AS searchers, (SELECT count(*) FROM brute) AS pairs,
       (SELECT count(*) FROM brute WHERE eligible) AS eligible_pairs,
       (SELECT count(*) FROM brute WHERE r >= 0.25 AND a <> b) AS too_related
  FROM searchers;
CREATE FUNCTION pg_temp.brute_top(a text, k int, min_gen int DEFAULT NULL, max_gen int DEFAULT NULL)
RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(b ORDER BY final DESC, b COLLATE "C"), '{}') FROM (
        SELECT b, final FROM brute x
         WHERE x.a = brute_top.a AND eligible
           AND (min_gen IS NULL OR x.generation >= min_gen) AND (max_gen IS NULL OR x.generation <= max_gen)
         ORDER BY final DESC, b COLLATE "C" LIMIT k) t
$$;
CREATE FUNCTION pg_temp.top(a text, k int, min_gen int DEFAULT NULL, max_gen int DEFAULT NULL)
RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(mate_id ORDER BY rank), '{}') FROM ecs_find_mates(a, k, min_gen, max_gen)
$$;

-- the exact top-k, k = 1, 5, 50: same mates in the same order as brute force
SELECT k, count(*) AS searchers,
       count(*) FILTER (WHERE pg_temp.top(a, k) = pg_temp.brute_top(a, k)) AS same
  FROM searchers, (VALUES (1), (5), (50)) v(k) GROUP BY k ORDER BY k;
-- the scores are the reference's
SELECT count(*) AS rows, count(*) FILTER (WHERE abs(m.score - x.final) > 1e-9) AS score_mismatches,
       count(*) FILTER (WHERE abs(m.trait_score - x.trait) > 1e-9) AS trait_mismatches,
       count(*) FILTER (WHERE abs(m.relatedness - x.r) > 1e-12) AS r_mismatches,
       count(*) FILTER (WHERE m.relatedness > 0) AS related_mates
  FROM searchers s CROSS JOIN LATERAL ecs_find_mates(s.a, 10) m JOIN brute x ON x.a = s.a AND x.b = m.mate_id;
-- many of the best trait scores belong to relatives: the re-rank matters
SELECT count(*) AS searchers_whose_best_trait_match_is_ineligible
  FROM searchers s
 WHERE NOT (SELECT eligible FROM brute x WHERE x.a = s.a AND x.b <> s.a
             ORDER BY x.trait DESC, x.b COLLATE "C" LIMIT 1);
-- generation window
SELECT count(*) AS searchers,
       count(*) FILTER (WHERE pg_temp.top(a, 5, 7, NULL) = pg_temp.brute_top(a, 5, 7, NULL)) AS same_min7,
       count(*) FILTER (WHERE pg_temp.top(a, 5, NULL, 2) = pg_temp.brute_top(a, 5, NULL, 2)) AS same_max2,
       count(*) FILTER (WHERE pg_temp.top(a, 5, 4, 4) = pg_temp.brute_top(a, 5, 4, 4)) AS same_4_4
  FROM searchers;
SELECT count(*) FROM ecs_find_mates('px9_0', 5, 5, 4);

-- ties: px*_22 / px*_23 carry the genome of px*_0 / px*_1; equal scores
-- are ordered by mate_id (byte order)
SELECT mate_id, score, rank FROM ecs_find_mates('px9_1', 50)
 WHERE score IN (SELECT score FROM ecs_find_mates('px9_1', 50) GROUP BY score HAVING count(*) > 1)
 ORDER BY rank LIMIT 6;

-- settings: penalty and threshold change the answer, exactly
SET ecs_agents.max_relatedness = 0.1;
SET ecs_agents.kinship_penalty = 4;
SELECT count(*) AS searchers,
       count(*) FILTER (WHERE pg_temp.top(a, 5) =
           (SELECT array_agg(b ORDER BY f DESC, b COLLATE "C") FROM (
               SELECT x.b, x.trait * greatest(0, 1 - 4 * x.r) AS f FROM brute x
                WHERE x.a = s.a AND x.a <> x.b AND x.active AND x.sexes_ok AND x.r < 0.1
                ORDER BY f DESC, x.b COLLATE "C" LIMIT 5) t)) AS same
  FROM searchers s;
RESET ecs_agents.max_relatedness;
RESET ecs_agents.kinship_penalty;

-- exclude_mated drops candidates in a mate relationship
SELECT ecs_relate(mate_id, 'px0_1', 'mate', 0.9) IS NOT NULL AS related
  FROM ecs_find_mates('px9_0', 2) ORDER BY rank;
SELECT (SELECT array_agg(mate_id ORDER BY rank) FROM ecs_find_mates('px9_0', 3, exclude_mated => true))
     = (SELECT array_agg(b ORDER BY final DESC, b COLLATE "C") FROM (
            SELECT b, final FROM brute x WHERE x.a = 'px9_0' AND eligible
               AND NOT EXISTS (SELECT FROM ecs.agent_relationships r WHERE r.kind = 'mate'
                                AND x.b IN (r.agent1_id, r.agent2_id))
             ORDER BY final DESC, b COLLATE "C" LIMIT 3) t) AS exclude_mated_ok,
       (SELECT count(*) FROM ecs_find_mates('px9_0', 3, exclude_mated => false)
         WHERE mate_id IN (SELECT agent1_id FROM ecs.agent_relationships UNION SELECT agent2_id FROM ecs.agent_relationships)) AS mated_kept_by_default;
DELETE FROM ecs.agent_relationships;

-- max_distance: both positions needed, euclidean
INSERT INTO ecs.agent_positions (agent_id, x, y)
SELECT agent_id, (ecs_random(21, generation * 100 + split_part(agent_id, '_', 2)::int) * 100)::int,
       (ecs_random(22, generation * 100 + split_part(agent_id, '_', 2)::int) * 100)::int
  FROM ecs.agents WHERE agent_id LIKE 'px%' AND agent_id NOT LIKE '%\_1_';
SELECT (SELECT array_agg(mate_id ORDER BY rank) FROM ecs_find_mates('px9_0', 5, max_distance => 40))
     = (SELECT array_agg(b ORDER BY final DESC, b COLLATE "C") FROM (
            SELECT b, final FROM brute x
              JOIN ecs.agent_positions p ON p.agent_id = x.b
              JOIN ecs.agent_positions q ON q.agent_id = 'px9_0'
             WHERE x.a = 'px9_0' AND eligible AND sqrt((p.x - q.x) ^ 2 + (p.y - q.y) ^ 2) <= 40
             ORDER BY final DESC, b COLLATE "C" LIMIT 5) t) AS max_distance_ok,
       (SELECT count(*) FROM ecs_find_mates('px9_0', 50, max_distance => 'Infinity')) AS with_position,
       (SELECT count(*) FROM ecs_find_mates('px9_0', 50, max_distance => 0)) AS at_distance_0;
SELECT * FROM ecs_find_mates('px9_12', 5, max_distance => 10);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM ecs.agent_positions;

-- batch: the same rows as one call per agent, for k = 1, 5, 50 (any difference
-- would be listed here; none expected), duplicates answered once
SELECT k, count(*) AS differences FROM (VALUES (1), (5), (50)) v(k),
  LATERAL ((SELECT * FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents), k)
            EXCEPT SELECT a.agent_id, m.mate_id, m.score, m.rank FROM ecs.agents a, ecs_find_mates(a.agent_id, k) m)
           UNION ALL
           (SELECT a.agent_id, m.mate_id, m.score, m.rank FROM ecs.agents a, ecs_find_mates(a.agent_id, k) m
            EXCEPT SELECT * FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents), k))) d
 GROUP BY k ORDER BY k;
-- The batch and the pairing either walk the pedigree (from the agents
-- searched, then lazily from their candidates) or read all of it at once
-- when searches * (k + 2) * 2^kinship_depth >= rows of ecs.agents (240 here,
-- 201 active); DEBUG1 says which.  Every agent, k = 1 (the batch above):
-- 240 * 3 * 16, read; one agent, k = 5: 1 * 7 * 16 = 112, walks; three
-- agents, k = 1: 144, walks; the 28 searchers, k = 5, and the pairing: read.
SET client_min_messages = debug1;
SELECT count(*) FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents), 1);
SELECT count(*) FROM ecs_find_mates_batch(ARRAY['px9_0'], 5);
SELECT count(*) FROM ecs_find_mates_batch(ARRAY['px9_0', 'px9_1', 'px9_2'], 1);
SELECT count(*) FROM ecs_find_mates_batch((SELECT array_agg(a) FROM searchers), 5);
SELECT count(*) FROM ecs_pair_population();
RESET client_min_messages;
-- the walking path gives the same rows as single calls too: batches of one
-- searcher (k = 1, 5) and of three (k = 1), on the collapsed pedigree
CREATE TEMP TABLE searcher_groups AS
SELECT (row_number() OVER (ORDER BY a COLLATE "C") - 1) / 3 AS g, a FROM searchers;
SELECT k, count(*) AS differences FROM (VALUES (1), (5)) v(k),
  LATERAL ((SELECT b.* FROM searchers s, ecs_find_mates_batch(ARRAY[s.a], k) b
            EXCEPT SELECT s.a, m.mate_id, m.score, m.rank FROM searchers s, ecs_find_mates(s.a, k) m)
           UNION ALL
           (SELECT s.a, m.mate_id, m.score, m.rank FROM searchers s, ecs_find_mates(s.a, k) m
            EXCEPT SELECT b.* FROM searchers s, ecs_find_mates_batch(ARRAY[s.a], k) b)) d
 GROUP BY k ORDER BY k;
SELECT count(*) AS differences FROM (
    (SELECT b.* FROM (SELECT array_agg(a) AS ids FROM searcher_groups GROUP BY g) x, ecs_find_mates_batch(x.ids, 1) b
     EXCEPT SELECT s.a, m.mate_id, m.score, m.rank FROM searchers s, ecs_find_mates(s.a, 1) m)
    UNION ALL
    (SELECT s.a, m.mate_id, m.score, m.rank FROM searchers s, ecs_find_mates(s.a, 1) m
     EXCEPT SELECT b.* FROM (SELECT array_agg(a) AS ids FROM searcher_groups GROUP BY g) x, ecs_find_mates_batch(x.ids, 1) b)) d;
-- how many of those rows are mates related to the searcher: the re-rank had
-- kinship to compute on both paths
SELECT count(*) AS rows, count(*) FILTER (WHERE x.r > 0) AS related_mates
  FROM searchers s, ecs_find_mates_batch(ARRAY[s.a], 5) b JOIN brute x ON x.a = b.agent_id AND x.b = b.mate_id;
-- when nearly every candidate is too closely related, lists must grow
-- (several rounds) and still give the brute-force answer: single calls,
-- batches of one (walks), the batch of all searchers (reads everything)
SET ecs_agents.max_relatedness = 0.001;
CREATE TEMP TABLE big_batch AS SELECT * FROM ecs_find_mates_batch((SELECT array_agg(a) FROM searchers), 5);
SELECT count(*) AS searchers,
       count(*) FILTER (WHERE pg_temp.top(a, 5) =
           (SELECT coalesce(array_agg(b ORDER BY f DESC, b COLLATE "C"), '{}') FROM (
               SELECT x.b, x.final AS f FROM brute x
                WHERE x.a = s.a AND x.a <> x.b AND x.active AND x.sexes_ok AND x.r < 0.001
                ORDER BY f DESC, x.b COLLATE "C" LIMIT 5) t)) AS same_single,
       count(*) FILTER (WHERE (SELECT coalesce(array_agg(mate_id ORDER BY rank), '{}') FROM ecs_find_mates_batch(ARRAY[a], 5))
                              = pg_temp.top(a, 5)) AS same_batch,
       count(*) FILTER (WHERE (SELECT coalesce(array_agg(mate_id ORDER BY rank), '{}') FROM big_batch b WHERE b.agent_id = s.a)
                              = pg_temp.top(a, 5)) AS same_big_batch,
       sum((SELECT count(*) FROM ecs_find_mates(a, 5))) AS mates_found
  FROM searchers s;
SET ecs_agents.max_relatedness = 0;
SELECT count(*) AS no_one_is_eligible FROM ecs_find_mates_batch((SELECT array_agg(a) FROM searchers), 5);
SELECT count(*) AS no_one_is_eligible FROM ecs_find_mates('px9_0', 5);
RESET ecs_agents.max_relatedness;
SELECT agent_id, count(*) FROM ecs_find_mates_batch(ARRAY['px9_3', 'px9_2', 'px9_3'], 2) GROUP BY agent_id ORDER BY 1;
SELECT count(*) FROM ecs_find_mates_batch('{}', 5);

-- population pairing: each agent at most once, every pair eligible, greedy
CREATE TEMP TABLE pairs AS SELECT * FROM ecs_pair_population();
SELECT count(*) AS pairs,
       (SELECT count(*) FROM ecs.agents WHERE agent_id LIKE 'px%' AND active) AS active_agents,
       count(*) FILTER (WHERE agent1_id COLLATE "C" >= agent2_id COLLATE "C") AS unordered,
       count(*) FILTER (WHERE NOT (ecs_compatibility_explain(agent1_id, agent2_id)).eligible) AS ineligible,
       count(*) FILTER (WHERE score <> ecs_compatibility(agent1_id, agent2_id)) AS score_mismatches
  FROM pairs;
-- spot check of pair scores against the reference
SELECT count(*) AS checked, count(*) FILTER (WHERE abs(score - ecs_ref.final_score(agent1_id, agent2_id, 4, 1.0)) > 1e-9) AS mismatches
  FROM (SELECT * FROM pairs ORDER BY score DESC LIMIT 10) p;
SELECT count(*) AS agents_twice FROM (SELECT agent1_id FROM pairs UNION ALL SELECT agent2_id FROM pairs) u
 GROUP BY agent1_id HAVING count(*) > 1;
-- the greedy rule, replayed in PL/pgSQL over the same candidate lists
CREATE FUNCTION pg_temp.greedy(min_score float8, max_pairs int) RETURNS TABLE (a text, b text, s float8)
LANGUAGE plpgsql AS $$
DECLARE
    e record;
    used text[] := '{}';
    n int := 0;
BEGIN
    FOR e IN SELECT DISTINCT least(x.agent_id COLLATE "C", x.mate_id COLLATE "C") AS lo,
                    greatest(x.agent_id COLLATE "C", x.mate_id COLLATE "C") AS hi, x.score
               FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents WHERE active), 8) x
              WHERE x.score >= min_score
              ORDER BY x.score DESC, 1, 2 LOOP
        EXIT WHEN max_pairs IS NOT NULL AND n >= max_pairs;
        CONTINUE WHEN e.lo = ANY (used) OR e.hi = ANY (used);
        used := used || e.lo || e.hi;
        n := n + 1;
        a := e.lo; b := e.hi; s := e.score;
        RETURN NEXT;
    END LOOP;
END
$$;
SELECT count(*) AS differences FROM (
    (SELECT * FROM pairs EXCEPT SELECT * FROM pg_temp.greedy(0, NULL))
    UNION ALL (SELECT * FROM pg_temp.greedy(0, NULL) EXCEPT SELECT * FROM pairs)) d;
SELECT count(*) AS differences FROM (
    (SELECT * FROM ecs_pair_population(0.8, 3) EXCEPT SELECT * FROM pg_temp.greedy(0.8, 3))
    UNION ALL (SELECT * FROM pg_temp.greedy(0.8, 3) EXCEPT SELECT * FROM ecs_pair_population(0.8, 3))) d;
SELECT count(*) AS n, min(score) >= 0.8 AS above_min FROM ecs_pair_population(0.8, 3);
SELECT count(*) FROM ecs_pair_population(0, 0);
SELECT count(*) FROM ecs_pair_population(2, NULL);
-- deterministic
SELECT count(*) AS differences FROM (SELECT * FROM ecs_pair_population() EXCEPT SELECT * FROM pairs) d;

-- NULL behaviour
SELECT count(*) FROM ecs_find_mates(NULL, 5);
SELECT count(*) FROM ecs_find_mates('px9_0', NULL);
SELECT count(*) = 5 AS filters_off FROM ecs_find_mates('px9_0', 5, NULL, NULL, NULL, NULL);
SELECT count(*) FROM ecs_find_mates_batch(NULL, 5);
SELECT count(*) FROM ecs_find_mates_batch(ARRAY['px9_0'], NULL);
SELECT count(*) = (SELECT count(*) FROM pairs) AS nulls_are_defaults FROM ecs_pair_population(NULL, NULL);

-- invalid input
SELECT * FROM ecs_find_mates('px9_0', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates('px9_0', 51);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates('px9_0', -2147483648);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates('px9_0', 5, max_distance => -1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates('px9_0', 5, max_distance => 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates('a', 5);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates('nobody', 5);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates_batch(ARRAY['px9_0', NULL], 5);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates_batch(ARRAY['px9_0', 'nobody'], 5);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates_batch(ARRAY['px9_0'], 2147483647);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_find_mates_batch(ARRAY[['px9_0']], 5);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_pair_population('NaN', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_pair_population(0, -1);
\echo :LAST_ERROR_SQLSTATE

DROP SCHEMA ecs_ref CASCADE;
DELETE FROM ecs.agents WHERE agent_id LIKE 'px%';
