-- ecs_social_stats(agent_id, since): interaction and relationship statistics
SET extra_float_digits = 0;
\set VERBOSITY terse
-- errors print their SQLSTATE on the line after

-- five agents: soc-a talks to b, c, d; e has no rows at all
INSERT INTO ecs.agents (agent_id, sex, genome)
SELECT id, 'female', array_fill(0.5::real, ARRAY[16])
  FROM (VALUES ('soc-a'), ('soc-b'), ('soc-c'), ('soc-d'), ('soc-e')) v(id);
SELECT ecs_interact('soc-a', 'soc-b', 'meet',   0.5,  '2026-01-01 10:00+00') IS NOT NULL AS i1,
       ecs_interact('soc-a', 'soc-b', 'trade',  1.0,  '2026-01-02 10:00+00') IS NOT NULL AS i2,
       ecs_interact('soc-c', 'soc-a', 'fight', -0.75, '2026-01-03 10:00+00') IS NOT NULL AS i3,
       ecs_interact('soc-a', 'soc-d', 'meet',   0,    '2026-01-04 10:00+00') IS NOT NULL AS i4,
       ecs_interact('soc-b', 'soc-a', 'groom',  0.25, '2026-01-05 10:00+00') IS NOT NULL AS i5,
       ecs_interact('soc-b', 'soc-c', 'meet',   1,    '2026-01-06 10:00+00') IS NOT NULL AS i6;
SELECT (ecs_relate('soc-a', 'soc-b', 'friend', 0.75)).kind AS r1,
       (ecs_relate('soc-b', 'soc-a', 'mate', 0.5)).kind AS r2,
       (ecs_relate('soc-c', 'soc-a', 'rival', -1)).kind AS r3,
       (ecs_relate('soc-a', 'soc-d', 'friend', 0.25)).kind AS r4,
       (ecs_relate('soc-b', 'soc-c', 'friend', 1)).kind AS r5;

-- all time: 5 interactions of soc-a (3 initiated, 2 received) with 3
-- partners; outcomes 0.5, 1, -0.75, 0, 0.25 -> 3 positive, 1 negative,
-- 1 neutral, mean 0.2; last on Jan 5.  Relationships: friend with b and d,
-- mate with b, rival with c -> 4, mean strength (0.75+0.5-1+0.25)/4 = 0.125
SELECT * FROM ecs_social_stats('soc-a');
-- since is inclusive: from Jan 3 10:00 on, 3 interactions (c->a, a->d, b->a)
SELECT interactions, initiated, received, distinct_partners, positive, negative, neutral,
       mean_outcome, last_interaction_at, relationships
  FROM ecs_social_stats('soc-a', '2026-01-03 10:00+00');
-- one microsecond later the Jan 3 fight is out
SELECT interactions, initiated, received, distinct_partners, mean_outcome
  FROM ecs_social_stats('soc-a', '2026-01-03 10:00:00.000001+00');
-- a window after every interaction: zeros, the relationships still count
-- (they are current state; since filters interactions only)
SELECT * FROM ecs_social_stats('soc-a', '2030-01-01');
-- since NULL is no window, same as the default
SELECT (SELECT row(s.*)::text FROM ecs_social_stats('soc-a', NULL) s)
     = (SELECT row(s.*)::text FROM ecs_social_stats('soc-a') s) AS null_since_is_all_time;
-- the other side of the same rows
SELECT * FROM ecs_social_stats('soc-b');
SELECT * FROM ecs_social_stats('soc-d');
-- an agent without any row: zeros and an empty object, NULL means and time
SELECT * FROM ecs_social_stats('soc-e');
-- one row per agent, usable in a lateral join
SELECT a.agent_id, s.interactions, s.relationships, s.relationships_by_kind
  FROM ecs.agents a CROSS JOIN LATERAL ecs_social_stats(a.agent_id) s
 WHERE a.agent_id LIKE 'soc-%' ORDER BY a.agent_id;
-- since = -infinity and infinity are windows like any other
SELECT (ecs_social_stats('soc-a', '-infinity')).interactions AS from_minus_inf,
       (ecs_social_stats('soc-a', 'infinity')).interactions AS from_inf;

-- invalid input
SELECT * FROM ecs_social_stats(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_social_stats(NULL, now());
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_social_stats('x');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_social_stats('soc a');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_social_stats(repeat('s', 65));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecs_social_stats('soc-zz');
\echo :LAST_ERROR_SQLSTATE

-- reads through the per-agent indexes (each side of the log and of the
-- relationships), never a scan of a whole table
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT ia.outcome FROM ecs.agent_interactions ia
 WHERE ia.agent1_id OPERATOR(pg_catalog.=) 'soc-a' AND ia.occurred_at OPERATOR(pg_catalog.>=) '-infinity'::timestamptz
UNION ALL
SELECT ib.outcome FROM ecs.agent_interactions ib
 WHERE ib.agent2_id OPERATOR(pg_catalog.=) 'soc-a' AND ib.occurred_at OPERATOR(pg_catalog.>=) '-infinity'::timestamptz;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- markings: STABLE, PARALLEL SAFE, PL/pgSQL (not SQL: SPEC section 9), not
-- STRICT (a NULL since means no window)
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict, l.lanname, p.proconfig
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.proname = 'ecs_social_stats';

DELETE FROM ecs.agents WHERE agent_id LIKE 'soc-%';
