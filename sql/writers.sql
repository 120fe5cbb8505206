--
-- writers: every validation path of ecs_spawn, ecs_relate, ecs_interact,
-- ecs_add_trait and of direct writes to ecs.agents (the row trigger, the id
-- domain and the constraints).  After each statement that must fail, the
-- line "sqlstate: " and the five-character code asserts it (SPEC section 6).
-- Everything runs in one transaction that is rolled back; the sequences are
-- put back at the end, so the database is left as it was found.
--
\set SHOW_CONTEXT never
\set ON_ERROR_ROLLBACK on
SET extra_float_digits = 0;
\set t0 '2024-01-01 00:00:00+00'
SELECT last_value AS seq_last, is_called AS seq_called FROM ecs.agent_number_seq \gset
SELECT last_value AS iseq_last, is_called AS iseq_called FROM ecs.agent_interactions_interaction_id_seq \gset

BEGIN;
-- generated ids are wf1000, wf1001, ... whatever ran before this file
SELECT setval('ecs.agent_number_seq', 1000, false) IS NOT NULL AS seq_set;

---------------------------------------------------------------------------
-- ecs_spawn
---------------------------------------------------------------------------
-- valid: n agents with ids prefix || number, generation 0, full genomes
SELECT * FROM ecs_spawn(4, 42, 'wolf', 'wf');
SELECT agent_id, sex, spirit_id, generation, parent1_id, parent2_id, active,
       array_length(genome, 1) AS genome_len, name IS NOT NULL AS named
  FROM ecs.agents WHERE agent_id LIKE 'wf1%' ORDER BY agent_id;
-- zero agents is allowed and spawns nothing
SELECT count(*) AS spawned FROM ecs_spawn(0, 1, 'wolf', 'zero');
-- NULL spirit: each founder gets one of the enabled spirits
SELECT count(*) AS spawned FROM ecs_spawn(20, 7, NULL, 'mix');
SELECT bool_and(s.enabled) AS all_enabled, count(DISTINCT a.spirit_id) > 1 AS several
  FROM ecs.agents a JOIN ecs.naming_spirits s USING (spirit_id) WHERE a.agent_id LIKE 'mix%';
-- NULL seed: random, still valid
SELECT count(*) AS spawned FROM ecs_spawn(2, NULL, 'fox', 'rnd');
-- determinism: the same seed gives the same genomes, sexes, spirits and names
SELECT count(*) FROM ecs_spawn(5, 123456789, NULL, 'deta');
SELECT count(*) FROM ecs_spawn(5, 123456789, NULL, 'detb');
SELECT count(*) FROM ecs_spawn(5, 123456790, NULL, 'detc');
WITH a AS (SELECT row_number() OVER (ORDER BY agent_id) AS i, * FROM ecs.agents WHERE agent_id LIKE 'deta%'),
     b AS (SELECT row_number() OVER (ORDER BY agent_id) AS i, * FROM ecs.agents WHERE agent_id LIKE 'detb%'),
     c AS (SELECT row_number() OVER (ORDER BY agent_id) AS i, * FROM ecs.agents WHERE agent_id LIKE 'detc%')
SELECT a.i, a.name, a.sex, a.spirit_id,
       a.genome = b.genome AND a.name = b.name AND a.sex = b.sex AND a.spirit_id = b.spirit_id AS same_seed_equal,
       a.genome = c.genome AS other_seed_same_genome
  FROM a JOIN b USING (i) JOIN c USING (i) ORDER BY a.i;
-- genome values are in [0, 1] and not all alike
SELECT min(v) >= 0 AS min_ok, max(v) <= 1 AS max_ok, count(DISTINCT v) > 100 AS varied
  FROM ecs.agents, unnest(genome) AS v WHERE agent_id LIKE 'mix%';

-- invalid input: n out of range or NULL
SELECT ecs_spawn(-1);
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(1000001);
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(NULL);
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(-2147483648);
\echo sqlstate: :SQLSTATE
-- bad prefixes
SELECT ecs_spawn(1, 1, 'wolf', '');
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(1, 1, 'wolf', NULL);
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(1, 1, 'wolf', 'a b');
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(1, 1, 'wolf', 'it''s');
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(1, 1, 'wolf', 'wölf');
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(1, 1, 'wolf', repeat('p', 45));
\echo sqlstate: :SQLSTATE
-- one character would make ids of 2 ("a1") while the sequence is below 10
SELECT ecs_spawn(1, 1, 'wolf', 'a');
\echo sqlstate: :SQLSTATE
-- the shortest and the longest prefixes make valid ids
SELECT length(x) AS id_length FROM ecs_spawn(1, 1, 'wolf', 'ab') AS x;
SELECT length(x) AS id_length FROM ecs_spawn(1, 1, 'wolf', repeat('p', 44)) AS x;
-- unknown and disabled spirits
SELECT ecs_spawn(1, 1, 'dragon');
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(1, 1, 'phoenix');
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(1, 1, '');
\echo sqlstate: :SQLSTATE
-- nothing of the failed calls was written
SELECT count(*) AS agents_from_failed_calls FROM ecs.agents
 WHERE agent_id !~ '^(wf1|mix|rnd|deta|detb|detc|ab|p{44})[0-9]+$';

---------------------------------------------------------------------------
-- ecs_relate
---------------------------------------------------------------------------
INSERT INTO ecs.agents (agent_id, name, genome) VALUES
    ('rel_b', 'B', array_fill(0.5::real, ARRAY[16])),
    ('rel_a', 'A', array_fill(0.5::real, ARRAY[16])),
    ('REL_C', 'C', array_fill(0.5::real, ARRAY[16]));
-- the unordered pair is stored smaller id first (byte order: 'R' < 'r')
SELECT agent1_id, agent2_id, kind, strength FROM ecs_relate('rel_b', 'rel_a', 'friend', 0.5);
SELECT agent1_id, agent2_id, kind, strength FROM ecs_relate('rel_a', 'REL_C', 'rival', -0.25);
-- upsert: the same pair in either order updates the one row
SELECT agent1_id, agent2_id, kind, strength FROM ecs_relate('rel_a', 'rel_b', 'friend', 0.75);
-- another kind is another row; defaults: kind friend, strength 0
SELECT agent1_id, agent2_id, kind, strength FROM ecs_relate('rel_b', 'rel_a', 'mate', 1);
SELECT agent1_id, agent2_id, kind, strength FROM ecs_relate('REL_C', 'rel_b');
-- the limits of strength pass
SELECT strength FROM ecs_relate('rel_b', 'REL_C', 'ally', -1);
SELECT strength FROM ecs_relate('rel_b', 'REL_C', 'ally', 1);
SELECT agent1_id, agent2_id, kind, strength FROM ecs.agent_relationships ORDER BY 1, 2, 3;
-- invalid input: self, NULL, malformed and unknown ids
SELECT ecs_relate('rel_a', 'rel_a', 'friend', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate(NULL, 'rel_a', 'friend', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', NULL, 'friend', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('ab', 'rel_a', 'friend', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'no such', 'friend', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'nobody', 'friend', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('nobody', 'rel_a', 'friend', 0);
\echo sqlstate: :SQLSTATE
-- kinds
SELECT ecs_relate('rel_a', 'rel_b', '', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', NULL, 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', 'Friend', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', 'best friend', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', '1st', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', repeat('k', 33), 0);
\echo sqlstate: :SQLSTATE
SELECT kind FROM ecs_relate('rel_a', 'rel_b', repeat('k', 32), 0);
-- strengths
SELECT ecs_relate('rel_a', 'rel_b', 'friend', NULL);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', 'friend', 'NaN');
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', 'friend', 'Infinity');
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', 'friend', '-Infinity');
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', 'friend', 1.0000001);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('rel_a', 'rel_b', 'friend', -1.5);
\echo sqlstate: :SQLSTATE
-- direct writes are held to the same rules by the table's constraints
INSERT INTO ecs.agent_relationships (agent1_id, agent2_id, kind, since) VALUES ('rel_b', 'rel_a', 'foe', :'t0');
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agent_relationships (agent1_id, agent2_id, kind, since) VALUES ('rel_a', 'rel_a', 'foe', :'t0');
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agent_relationships (agent1_id, agent2_id, kind, strength, since) VALUES ('rel_a', 'rel_b', 'foe', 'NaN', :'t0');
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agent_relationships (agent1_id, agent2_id, kind) VALUES ('rel_a', 'rel_zz', 'foe');
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agent_relationships (agent1_id, agent2_id, kind, since) VALUES ('rel_a', 'rel_b', 'Foe', :'t0');
\echo sqlstate: :SQLSTATE
-- nothing changed by the failed calls
SELECT agent1_id, agent2_id, kind, strength FROM ecs.agent_relationships ORDER BY 1, 2, 3;

---------------------------------------------------------------------------
-- ecs_interact
---------------------------------------------------------------------------
SELECT setval('ecs.agent_interactions_interaction_id_seq', 500, false) IS NOT NULL AS seq_set;
-- direction is kept: agent1 initiated, agent2 was the target
SELECT ecs_interact('rel_b', 'rel_a', 'groom', 0.5, '2024-01-02 03:04:05+00');
SELECT ecs_interact('rel_a', 'rel_b', 'fight', -1, '2024-01-03 00:00:00+00');
SELECT ecs_interact('rel_a', 'REL_C') AS defaults;
SELECT ecs_interact('rel_a', 'REL_C', 'meet', 1, NULL) AS null_time_is_now;
SELECT interaction_id, agent1_id, agent2_id, kind, outcome,
       CASE WHEN occurred_at > now() - interval '1 hour' THEN 'now' ELSE occurred_at::text END AS occurred
  FROM ecs.agent_interactions ORDER BY interaction_id;
-- invalid input
SELECT ecs_interact('rel_a', 'rel_a');
\echo sqlstate: :SQLSTATE
SELECT ecs_interact(NULL, 'rel_a');
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', NULL);
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', repeat('x', 65));
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', 'nobody');
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', 'rel_b', '', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', 'rel_b', NULL, 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', 'rel_b', 'Meet', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', 'rel_b', 'meet', NULL);
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', 'rel_b', 'meet', 'NaN');
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', 'rel_b', 'meet', 'Infinity');
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', 'rel_b', 'meet', 2);
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('rel_a', 'rel_b', 'meet', -1.01);
\echo sqlstate: :SQLSTATE
SELECT count(*) AS interactions FROM ecs.agent_interactions;

---------------------------------------------------------------------------
-- direct writes to ecs.agents: genomes
---------------------------------------------------------------------------
-- valid: 16 values in [0, 1], limits included
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_ok', array_fill(0::real, ARRAY[15]) || 1::real);
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_minus_zero', array_fill('-0'::real, ARRAY[16]));
-- wrong length
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', array_fill(0.5::real, ARRAY[15]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', array_fill(0.5::real, ARRAY[17]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', '{}');
\echo sqlstate: :SQLSTATE
-- values that are not finite numbers in [0, 1]
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', array_fill(0.5::real, ARRAY[15]) || 'NaN'::real);
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', array_fill(0.5::real, ARRAY[15]) || 'Infinity'::real);
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', array_fill(0.5::real, ARRAY[15]) || '-Infinity'::real);
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', '{-0.1}'::real[] || array_fill(0.5::real, ARRAY[15]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', array_fill(0.5::real, ARRAY[15]) || 1.1::real);
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', array_fill(0.5::real, ARRAY[15]) || NULL::real);
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_bad', array_fill(0.5::real, ARRAY[4, 4]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, born_at, genome) VALUES ('g_bad', :'t0', NULL);
\echo sqlstate: :SQLSTATE
-- a genome with another lower bound: refused (22023) or stored so that
-- readers still see value i at position i - 1, e.g. in ecs.agent_traits
DO $$
BEGIN
    INSERT INTO ecs.agents (agent_id, genome)
    VALUES ('g_lbound', '[0:15]={0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1,0,0,0,0,0.99}');
EXCEPTION WHEN invalid_parameter_value THEN
    NULL;
END
$$;
SELECT count(*) = count(t.value) AND coalesce(bool_and(t.value = g.v), true) AS lower_bound_read_right
  FROM ecs.agent_traits t
  JOIN ecs.trait_catalog c USING (trait_name)
  JOIN unnest('{0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1,0,0,0,0,0.99}'::real[]) WITH ORDINALITY AS g(v, i)
    ON g.i = c.position + 1
 WHERE t.agent_id = 'g_lbound';
DELETE FROM ecs.agents WHERE agent_id = 'g_lbound';
-- UPDATE is checked the same way
UPDATE ecs.agents SET genome[3] = 2 WHERE agent_id = 'g_ok';
\echo sqlstate: :SQLSTATE
UPDATE ecs.agents SET genome[17] = 0.5 WHERE agent_id = 'g_ok';
\echo sqlstate: :SQLSTATE
UPDATE ecs.agents SET genome = genome[1:15] WHERE agent_id = 'g_ok';
\echo sqlstate: :SQLSTATE
UPDATE ecs.agents SET genome[1] = 'NaN' WHERE agent_id = 'g_ok';
\echo sqlstate: :SQLSTATE
UPDATE ecs.agents SET genome[1] = 0.25 WHERE agent_id = 'g_ok';
SELECT genome[1:2] FROM ecs.agents WHERE agent_id = 'g_ok';

---------------------------------------------------------------------------
-- direct writes to ecs.agents: ids (3 to 64 of [A-Za-z0-9_-]) and other columns
---------------------------------------------------------------------------
INSERT INTO ecs.agents (agent_id, genome) VALUES ('abc', array_fill(0.5::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, genome) VALUES ('A-z_09', array_fill(0.5::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, genome) VALUES (repeat('x', 64), array_fill(0.5::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, genome) VALUES ('ab', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES (repeat('x', 65), array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('has space', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES (' abc', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('wölf', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('ag' || chr(8217) || 'nt', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('it''s', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('say"hi"', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES (E'abc\n', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('a;b', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, born_at, genome) VALUES (NULL, :'t0', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, genome) VALUES ('abc', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, sex, born_at, genome) VALUES ('sexy', 'f', :'t0', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, generation, born_at, genome) VALUES ('neg_gen', -1, :'t0', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, spirit_id, genome) VALUES ('no_spirit', 'dragon', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
-- the id functions agree with the domain
SELECT ecs_validate_agent_id('A-z_09');
SELECT ecs_validate_agent_id('ab');
\echo sqlstate: :SQLSTATE
SELECT ecs_validate_agent_id(repeat('x', 65));
\echo sqlstate: :SQLSTATE
SELECT ecs_validate_agent_id('wölf');
\echo sqlstate: :SQLSTATE
SELECT ecs_validate_agent_id(repeat('x', 10000)) IS NULL;
\echo sqlstate: :SQLSTATE
SELECT ecs_validate_agent_id(NULL) IS NULL AS strict;
SELECT ecs_check_agent('abc');
SELECT ecs_check_agent('abd', 'mate');
\echo sqlstate: :SQLSTATE
SELECT ecs_check_agent(NULL, 'mate');
\echo sqlstate: :SQLSTATE

---------------------------------------------------------------------------
-- direct writes to ecs.agents: parent links
---------------------------------------------------------------------------
INSERT INTO ecs.agents (agent_id, generation, born_at, genome) VALUES
    ('ped_gp1', 0, :'t0', array_fill(0.5::real, ARRAY[16])),
    ('ped_gp2', 0, :'t0', array_fill(0.5::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, generation, parent1_id, parent2_id, born_at, genome) VALUES
    ('ped_p1', 1, 'ped_gp1', 'ped_gp2', :'t0', array_fill(0.5::real, ARRAY[16])),
    ('ped_p2', 1, 'ped_gp1', NULL, :'t0', array_fill(0.5::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, generation, parent1_id, parent2_id, born_at, genome) VALUES
    ('ped_c', 2, 'ped_p1', 'ped_p2', :'t0', array_fill(0.5::real, ARRAY[16]));
-- parent is self, both parents equal, unknown parent
INSERT INTO ecs.agents (agent_id, parent1_id, born_at, genome) VALUES ('ped_x', 'ped_x', :'t0', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, parent2_id, born_at, genome) VALUES ('ped_x', 'ped_x', :'t0', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, parent1_id, parent2_id, born_at, genome) VALUES ('ped_x', 'ped_p1', 'ped_p1', :'t0', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, parent1_id, genome) VALUES ('ped_x', 'ped_nobody', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, parent1_id, genome) VALUES ('ped_x', 'p', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
UPDATE ecs.agents SET parent1_id = agent_id WHERE agent_id = 'ped_c';
\echo sqlstate: :SQLSTATE
UPDATE ecs.agents SET parent2_id = parent1_id WHERE agent_id = 'ped_c';
\echo sqlstate: :SQLSTATE
-- cycles through UPDATE: a grandparent made a child of its grandchild, of its child
UPDATE ecs.agents SET parent1_id = 'ped_c' WHERE agent_id = 'ped_gp1';
\echo sqlstate: :SQLSTATE
UPDATE ecs.agents SET parent2_id = 'ped_p2' WHERE agent_id = 'ped_gp1';
\echo sqlstate: :SQLSTATE
UPDATE ecs.agents SET parent1_id = 'ped_c', parent2_id = 'ped_gp1' WHERE agent_id = 'ped_gp2';
\echo sqlstate: :SQLSTATE
-- cycles made by several rows of one statement: each row's link alone is
-- fine, together they close a cycle (checked once the statement's rows
-- are all in the table)
-- two and three rows of one INSERT naming each other
INSERT INTO ecs.agents (agent_id, parent1_id, genome) VALUES
    ('ped_ca', 'ped_cb', array_fill(0.5::real, ARRAY[16])),
    ('ped_cb', 'ped_ca', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
INSERT INTO ecs.agents (agent_id, parent1_id, parent2_id, genome) VALUES
    ('ped_ca', 'ped_gp1', 'ped_cc', array_fill(0.5::real, ARRAY[16])),
    ('ped_cb', 'ped_ca', NULL, array_fill(0.5::real, ARRAY[16])),
    ('ped_cc', 'ped_cb', 'ped_gp2', array_fill(0.5::real, ARRAY[16])),
    ('ped_cd', 'ped_cc', NULL, array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
-- one UPDATE making two agents each other's parent, and one closing a
-- cycle through an agent it does not touch (ped_gp1 -> ped_gp2 -> ped_p2,
-- whose parent is ped_gp1)
UPDATE ecs.agents SET parent2_id = CASE agent_id WHEN 'ped_gp1' THEN 'ped_gp2' ELSE 'ped_gp1' END
 WHERE agent_id IN ('ped_gp1', 'ped_gp2');
\echo sqlstate: :SQLSTATE
UPDATE ecs.agents SET parent1_id = CASE agent_id WHEN 'ped_gp2' THEN 'ped_p2' ELSE parent1_id END,
                      parent2_id = CASE agent_id WHEN 'ped_gp1' THEN 'ped_gp2' ELSE parent2_id END
 WHERE agent_id IN ('ped_gp1', 'ped_gp2');
\echo sqlstate: :SQLSTATE
-- a family written in one INSERT, parents after their children: no cycle, accepted
INSERT INTO ecs.agents (agent_id, parent1_id, parent2_id, genome) VALUES
    ('ped_f3', 'ped_f2', 'ped_f1', array_fill(0.5::real, ARRAY[16])),
    ('ped_f2', 'ped_f0', NULL, array_fill(0.5::real, ARRAY[16])),
    ('ped_f1', 'ped_f0', 'ped_gp1', array_fill(0.5::real, ARRAY[16])),
    ('ped_f0', NULL, NULL, array_fill(0.5::real, ARRAY[16]));
SELECT agent_id, depth FROM ecs_lineage('ped_f3', 3, 'ancestors') ORDER BY depth, agent_id;
DELETE FROM ecs.agents WHERE agent_id IN ('ped_f3');
DELETE FROM ecs.agents WHERE agent_id IN ('ped_f2', 'ped_f1');
DELETE FROM ecs.agents WHERE agent_id IN ('ped_f0');
-- statement triggers of the application reading the same transition table,
-- fired before and after ours (name order), still see every row
SAVEPOINT app_triggers;
CREATE FUNCTION pg_temp.count_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE '% saw % rows', TG_NAME, (SELECT count(*) FROM newrows); RETURN NULL; END $$;
CREATE TRIGGER a_first AFTER INSERT ON ecs.agents REFERENCING NEW TABLE AS newrows
    FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.count_new();
CREATE TRIGGER zz_last AFTER INSERT ON ecs.agents REFERENCING NEW TABLE AS newrows
    FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.count_new();
INSERT INTO ecs.agents (agent_id, parent1_id, genome) VALUES
    ('ped_t1', NULL, array_fill(0.5::real, ARRAY[16])),
    ('ped_t2', 'ped_t1', array_fill(0.5::real, ARRAY[16])),
    ('ped_t3', 'ped_t2', array_fill(0.5::real, ARRAY[16]));
ROLLBACK TO SAVEPOINT app_triggers;
-- re-parenting that makes no cycle is fine
UPDATE ecs.agents SET parent1_id = 'ped_gp2' WHERE agent_id = 'ped_p2';
UPDATE ecs.agents SET parent1_id = 'ped_gp1', parent2_id = NULL WHERE agent_id = 'ped_gp2';
SELECT agent_id, parent1_id, parent2_id FROM ecs.agents WHERE agent_id LIKE 'ped%' ORDER BY agent_id;
-- and the other writer of links: ON DELETE of a parent is refused while children exist
DELETE FROM ecs.agents WHERE agent_id = 'ped_gp1';
\echo sqlstate: :SQLSTATE

---------------------------------------------------------------------------
-- ecs_add_trait
---------------------------------------------------------------------------
-- the row trigger counts the catalog once per statement: every row of a
-- multi-row INSERT is checked against it, and a statement after a catalog
-- change in the same transaction counts again (savepoints: this part of
-- the file runs in one transaction)
SAVEPOINT memo;
INSERT INTO ecs.agents (agent_id, sex, genome)
SELECT 'memo' || i, 'male', array_fill(0.5::real, ARRAY[CASE WHEN i = 3 THEN 15 ELSE 16 END])
  FROM generate_series(1, 4) i;
\echo sqlstate: :SQLSTATE
ROLLBACK TO SAVEPOINT memo;
SAVEPOINT memo;
INSERT INTO ecs.agents (agent_id, sex, genome)
SELECT 'memo' || i, 'male', array_fill(0.5::real, ARRAY[16]) FROM generate_series(1, 2) i;
SELECT ecs_add_trait('memo_trait', 1);
INSERT INTO ecs.agents (agent_id, sex, genome) VALUES ('memo3', 'male', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
ROLLBACK TO SAVEPOINT memo;
SAVEPOINT memo;
SELECT ecs_add_trait('memo_trait', 1);
INSERT INTO ecs.agents (agent_id, sex, genome)
SELECT 'memo' || i, 'male', array_fill(0.5::real, ARRAY[17]) FROM generate_series(1, 2) i;
SELECT count(*) AS memo_agents FROM ecs.agents WHERE agent_id LIKE 'memo%';
ROLLBACK TO SAVEPOINT memo;

-- invalid input first (the catalog stays at 16 traits)
SELECT ecs_add_trait(NULL, 1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('', 1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('Wit', 1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('1wit', 1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit wit', 1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit''; DROP TABLE ecs.agents; --', 1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait(repeat('w', 64), 1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', NULL);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', -1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 'NaN');
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 'Infinity');
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, NULL);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'SIMILAR');
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'opposite');
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'similar', NULL);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'similar', -0.1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'similar', 'NaN');
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'similar', 'Infinity');
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'similar', 0.05, NULL);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'similar', 0.05, -0.1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'similar', 0.05, 1.1);
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'similar', 0.05, 'NaN');
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('wit', 1, 'similar', 0.05, 'Infinity');
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('strength', 1);
\echo sqlstate: :SQLSTATE
SELECT count(*) AS traits FROM ecs.trait_catalog;
-- valid: the catalog and every genome grow in one statement
SELECT count(*) AS agents, bool_and(array_length(genome, 1) = 16) AS all_16 FROM ecs.agents;
SELECT ecs_add_trait('wit', 2.5, 'complement', 0, 0.25);
SELECT position, trait_name, weight, mode, mutation_sd, builtin FROM ecs.trait_catalog WHERE position >= 15 ORDER BY position;
SELECT count(*) AS agents, bool_and(array_length(genome, 1) = 17) AS all_17,
       bool_and(genome[17] = 0.25) AS all_default
  FROM ecs.agents;
-- the view follows
SELECT trait_name, count(*), min(value), max(value) FROM ecs.agent_traits WHERE trait_name = 'wit' GROUP BY 1;
-- the limits of default_value and mutation_sd pass
SELECT ecs_add_trait('wit_lo', 1e-9, 'similar', 0, 0);
SELECT ecs_add_trait('wit_hi', 1e9, 'similar', 1e9, 1);
SELECT ecs_add_trait(repeat('w', 63), 1);
SELECT count(*) AS traits, max(position) FROM ecs.trait_catalog;
-- a 16-value genome no longer fits; ecs_spawn follows the catalog
INSERT INTO ecs.agents (agent_id, genome) VALUES ('g_old', array_fill(0.5::real, ARRAY[16]));
\echo sqlstate: :SQLSTATE
SELECT count(*) FROM ecs_spawn(1, 5, 'owl', 'late');
SELECT agent_id, array_length(genome, 1) FROM ecs.agents WHERE agent_id LIKE 'late%';
ROLLBACK;

SELECT setval('ecs.agent_number_seq', :seq_last, :'seq_called'::bool) IS NOT NULL AS seq_restored;
SELECT setval('ecs.agent_interactions_interaction_id_seq', :iseq_last, :'iseq_called'::bool) IS NOT NULL AS seq_restored;
SELECT count(*) AS agents_left FROM ecs.agents;
SELECT count(*) AS traits_left FROM ecs.trait_catalog;
