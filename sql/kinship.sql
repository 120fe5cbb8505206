-- kinship, relatedness, inbreeding (SPEC section 3), checked by hand on a
-- small pedigree and against the tabular reference on a collapsed one
SET extra_float_digits = 0;
\set VERBOSITY terse
-- errors print their SQLSTATE on the line after

-- a hand-built pedigree (ids kinA..kinH): A x B -> C, D (full sibs); C x D -> E;
-- A x G -> F (half sib of C and D); H unrelated founder
INSERT INTO ecs.agents (agent_id, sex, genome) SELECT id, sex, array_fill(0.5::real, ARRAY[16])
  FROM (VALUES ('kinA', 'female'), ('kinB', 'male'), ('kinG', 'male'), ('kinH', 'female')) v(id, sex);
INSERT INTO ecs.agents (agent_id, sex, generation, parent1_id, parent2_id, genome)
SELECT id, sex, 1, p1, p2, array_fill(0.5::real, ARRAY[16])
  FROM (VALUES ('kinC', 'female', 'kinA', 'kinB'), ('kinD', 'male', 'kinA', 'kinB'), ('kinF', 'male', 'kinA', 'kinG')) v(id, sex, p1, p2);
INSERT INTO ecs.agents (agent_id, sex, generation, parent1_id, parent2_id, genome)
VALUES ('kinE', 'female', 2, 'kinC', 'kinD', array_fill(0.5::real, ARRAY[16]));

-- textbook values at the default depth 4
SELECT a, b, ecs_kinship(a, b) AS phi, ecs_relatedness(a, b) AS r
  FROM (VALUES ('kinA', 'kinA'), ('kinA', 'kinB'), ('kinA', 'kinC'), ('kinC', 'kinA'), ('kinC', 'kinD'), ('kinC', 'kinF'),
               ('kinE', 'kinE'), ('kinE', 'kinA'), ('kinE', 'kinC'), ('kinH', 'kinE'), ('kinF', 'kinE')) v(a, b)
 ORDER BY a, b;
-- inbreeding: F(E) = phi(C, D) = 1/4; founders and children of unrelated parents 0
SELECT x, ecs_inbreeding(x) AS f FROM (VALUES ('kinA'), ('kinC'), ('kinE'), ('kinF')) v(x) ORDER BY x;

-- truncation: at depth 0 only a and b themselves are members
SET ecs_agents.kinship_depth = 0;
SELECT ecs_kinship('kinC', 'kinD') AS sibs_d0, ecs_kinship('kinE', 'kinE') AS self_d0, ecs_kinship('kinA', 'kinC') AS parent_child_d0;
-- depth 1: a parent link between two members counts even past the depth
-- from one side: E's parents (depth 1) link to A (depth 0 from A)
SET ecs_agents.kinship_depth = 1;
SELECT ecs_kinship('kinE', 'kinA') AS e_a_d1, ecs_kinship('kinC', 'kinD') AS sibs_d1, ecs_inbreeding('kinE') AS f_e_d1;
RESET ecs_agents.kinship_depth;

-- the reference (test/fixtures/reference.sql: tabular method in PL/pgSQL)
-- agrees with the C functions on a collapsed 10-generation pedigree
\i test/fixtures/pedigree.sql
\i test/fixtures/reference.sql
SELECT count(*) AS agents, count(*) FILTER (WHERE active) AS active FROM ecs.agents WHERE agent_id LIKE 'px%';
CREATE TEMP TABLE kin_pairs AS
SELECT 'px9_' || i AS a, 'px9_' || j AS b FROM generate_series(0, 23) i, generate_series(0, 23) j WHERE i <= j
UNION ALL
SELECT 'px' || (floor(ecs_random(5, n) * 10))::int || '_' || (floor(ecs_random(6, n) * 24))::int,
       'px' || (floor(ecs_random(7, n) * 10))::int || '_' || (floor(ecs_random(8, n) * 24))::int
  FROM generate_series(1, 120) n;
SELECT count(*) AS pairs FROM kin_pairs;
SET ecs_agents.kinship_depth = 0;
SELECT count(*) AS pairs, count(*) FILTER (WHERE abs(ecs_kinship(a, b) - ecs_ref.kinship(a, b, 0)) > 1e-12) AS mismatches,
       count(*) FILTER (WHERE ecs_ref.kinship(a, b, 0) > 0 AND a <> b) AS related
  FROM kin_pairs;
SET ecs_agents.kinship_depth = 1;
SELECT count(*) AS pairs, count(*) FILTER (WHERE abs(ecs_kinship(a, b) - ecs_ref.kinship(a, b, 1)) > 1e-12) AS mismatches,
       count(*) FILTER (WHERE ecs_ref.kinship(a, b, 1) > 0 AND a <> b) AS related
  FROM kin_pairs;
SET ecs_agents.kinship_depth = 2;
SELECT count(*) AS pairs, count(*) FILTER (WHERE abs(ecs_kinship(a, b) - ecs_ref.kinship(a, b, 2)) > 1e-12) AS mismatches,
       count(*) FILTER (WHERE ecs_ref.kinship(a, b, 2) > 0 AND a <> b) AS related
  FROM kin_pairs;
RESET ecs_agents.kinship_depth;
SELECT count(*) AS pairs, count(*) FILTER (WHERE abs(ecs_kinship(a, b) - ecs_ref.kinship(a, b, 4)) > 1e-12) AS mismatches,
       count(*) FILTER (WHERE abs(ecs_relatedness(a, b) - 2 * ecs_ref.kinship(a, b, 4)) > 1e-12) AS r_mismatches,
       count(*) FILTER (WHERE ecs_ref.kinship(a, b, 4) > 0 AND a <> b) AS related
  FROM kin_pairs;
SET ecs_agents.kinship_depth = 6;
SELECT count(*) AS pairs, count(*) FILTER (WHERE abs(ecs_kinship(a, b) - ecs_ref.kinship(a, b, 6)) > 1e-12) AS mismatches
  FROM kin_pairs WHERE a LIKE 'px9%' AND b LIKE 'px9%' AND b < 'px9_13';
RESET ecs_agents.kinship_depth;
-- inbreeding = kinship of the parents, for every agent of the last generation
SELECT count(*) AS agents,
       count(*) FILTER (WHERE abs(ecs_inbreeding(a.agent_id) - ecs_ref.kinship(a.parent1_id, a.parent2_id, 4)) > 1e-12) AS mismatches,
       count(*) FILTER (WHERE ecs_inbreeding(a.agent_id) > 0) AS inbred
  FROM ecs.agents a WHERE a.agent_id LIKE 'px9%';
-- symmetric
SELECT count(*) FILTER (WHERE ecs_kinship(a, b) <> ecs_kinship(b, a)) AS asymmetric FROM kin_pairs;

-- NULL arguments: STRICT, NULL result
SELECT ecs_kinship(NULL, 'kinA') IS NULL AS k1, ecs_kinship('kinA', NULL) IS NULL AS k2,
       ecs_relatedness(NULL, NULL) IS NULL AS r, ecs_inbreeding(NULL) IS NULL AS f;

-- invalid input
SELECT ecs_kinship('k', 'kinA');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_kinship('kinA', 'bad id!');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_relatedness(repeat('x', 65), 'kinA');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_inbreeding('');
\echo :LAST_ERROR_SQLSTATE
-- unknown agents
SELECT ecs_kinship('kinA', 'nobody');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_relatedness('nobody', 'kinA');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_inbreeding('nobody');
\echo :LAST_ERROR_SQLSTATE

-- a pedigree cycle written with the trigger disabled: 22000, never a loop
ALTER TABLE ecs.agents DISABLE TRIGGER agents_after_reparent;
UPDATE ecs.agents SET parent1_id = 'kinE' WHERE agent_id = 'kinA';
ALTER TABLE ecs.agents ENABLE TRIGGER agents_after_reparent;
SELECT ecs_kinship('kinE', 'kinH');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_inbreeding('kinE');
\echo :LAST_ERROR_SQLSTATE
-- outside the sub-pedigree the cycle does not matter
SELECT ecs_kinship('kinH', 'kinG') AS unrelated_founders;
-- nor for mate searches that read the whole pedigree, cycle included (the
-- batch of every active px agent, DEBUG1 says so): each search checks only
-- its own agents' pedigrees, and the rows are the single calls' (the kin*
-- agents set inactive, so that they are no one's candidates)
UPDATE ecs.agents SET active = false WHERE agent_id LIKE 'kin_';
SET client_min_messages = debug1;
SELECT count(*) FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents WHERE active), 5);
RESET client_min_messages;
SELECT count(*) AS differences FROM (
    (SELECT * FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents WHERE active), 5)
     EXCEPT SELECT a.agent_id, m.mate_id, m.score, m.rank FROM ecs.agents a, ecs_find_mates(a.agent_id, 5) m WHERE a.active)
    UNION ALL
    (SELECT a.agent_id, m.mate_id, m.score, m.rank FROM ecs.agents a, ecs_find_mates(a.agent_id, 5) m WHERE a.active
     EXCEPT SELECT * FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents WHERE active), 5))) d;
-- an agent whose own pedigree holds the cycle still fails, on either path
SET client_min_messages = debug1;
SELECT count(*) FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents WHERE active) || 'kinE'::text, 5);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ecs_find_mates_batch(ARRAY['kinE'], 1);
\echo :LAST_ERROR_SQLSTATE
RESET client_min_messages;
SELECT count(*) FROM ecs_find_mates('kinE', 1);
\echo :LAST_ERROR_SQLSTATE
UPDATE ecs.agents SET active = true WHERE agent_id LIKE 'kin_';
-- walks terminate, each agent once
SELECT agent_id, depth FROM ecs_lineage('kinE', 10, 'ancestors') ORDER BY depth, agent_id;
SELECT agent_id, depth FROM ecs_lineage('kinA', 10, 'descendants') ORDER BY depth, agent_id;
UPDATE ecs.agents SET parent1_id = NULL WHERE agent_id = 'kinA';

-- sub-pedigrees of more than 1,024 agents use the memoised recursion
-- instead of the table (kinship.c, ECS_KINSHIP_TABULAR): two full siblings
-- bkA and bkB under a complete binary pedigree of 10 generations (bk<i>'s
-- parents are bk<2i> and bk<2i+1>), except that bk3's first parent is bk4,
-- so their parents bk2 and bk3 are half-siblings.  By hand:
--   phi(bk2, bk3) = 1/4 phi(bk4, bk4) = 1/8,  phi(bk2, bk2) = phi(bk3, bk3) = 1/2,
--   phi(bkA, bkB) = 1/4 (1/2 + 1/8 + 1/8 + 1/2) = 0.3125, r = 0.625,
--   F(bkA) = phi(bk2, bk3) = 0.125.
-- At kinship_depth 12 the pair's sub-pedigree holds every ancestor (more
-- than 1,024: the recursion); at depth 3, a few (the table); same values.
INSERT INTO ecs.agents (agent_id, parent1_id, parent2_id, genome)
SELECT 'bk' || i,
       CASE WHEN i = 3 THEN 'bk4' WHEN i <= 1023 THEN 'bk' || (2 * i) END,
       CASE WHEN i <= 1023 THEN 'bk' || (2 * i + 1) END,
       array_fill(0.5::real, ARRAY[16])
  FROM generate_series(2, 2047) i;
INSERT INTO ecs.agents (agent_id, parent1_id, parent2_id, genome) VALUES
    ('bkA', 'bk2', 'bk3', array_fill(0.5::real, ARRAY[16])),
    ('bkB', 'bk2', 'bk3', array_fill(0.5::real, ARRAY[16]));
SELECT count(*) AS ancestors_and_self FROM ecs_lineage('bkA', 12, 'ancestors');
SET ecs_agents.kinship_depth = 12;
SELECT ecs_kinship('bkA', 'bkB') AS phi_recursion, ecs_relatedness('bkA', 'bkB') AS r_recursion,
       ecs_inbreeding('bkA') AS f_recursion;
SET ecs_agents.kinship_depth = 3;
SELECT ecs_kinship('bkA', 'bkB') AS phi_table, ecs_relatedness('bkA', 'bkB') AS r_table,
       ecs_inbreeding('bkA') AS f_table;
RESET ecs_agents.kinship_depth;
DELETE FROM ecs.agents WHERE agent_id IN ('bkA', 'bkB');
DELETE FROM ecs.agents WHERE agent_id LIKE 'bk%';

-- clean up
DROP SCHEMA ecs_ref CASCADE;
DELETE FROM ecs.agents WHERE agent_id LIKE 'px%' OR agent_id LIKE 'kin_';
