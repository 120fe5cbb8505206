-- ecs_breed(parent1, parent2, child_id, seed): children of eligible parents
SET extra_float_digits = 0;
\set SHOW_CONTEXT never
-- errors print their SQLSTATE on the line after

-- parents: brd-f (female, wolf, gen 0, genome all 0.2), brd-m (male, bear,
-- gen 2, all 0.8), brd-m2 (male, no spirit), brd-f2 (female, no spirit),
-- brd-x (female, inactive)
INSERT INTO ecs.agents (agent_id, sex, spirit_id, generation, genome)
VALUES ('brd-f',  'female', 'wolf', 0, array_fill(0.2::real, ARRAY[16])),
       ('brd-m',  'male',   'bear', 2, array_fill(0.8::real, ARRAY[16])),
       ('brd-m2', 'male',   NULL,   0, array_fill(0.5::real, ARRAY[16])),
       ('brd-f2', 'female', NULL,   1, array_fill(0.5::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, sex, spirit_id, active, genome)
VALUES ('brd-x', 'female', 'owl', false, array_fill(0.5::real, ARRAY[16]));

-- a child with a given id and seed
SELECT ecs_breed('brd-f', 'brd-m', 'brd-c1', 42) AS child;
SELECT agent_id, name, sex, spirit_id, generation, parent1_id, parent2_id, active
  FROM ecs.agents WHERE agent_id = 'brd-c1';
-- its genome: each trait near 0.2 (from brd-f) or near 0.8 (from brd-m),
-- within a few mutation sds, inside [0, 1]
SELECT count(*) AS traits,
       count(*) FILTER (WHERE abs(g - 0.2) <= 0.2 OR abs(g - 0.8) <= 0.2) AS near_a_parent,
       count(*) FILTER (WHERE abs(g - 0.2) <= 0.2) > 0 AND count(*) FILTER (WHERE abs(g - 0.8) <= 0.2) > 0 AS from_both,
       bool_and(g >= 0 AND g <= 1) AS in_unit
  FROM ecs.agents a, unnest(a.genome) g WHERE a.agent_id = 'brd-c1';

-- deterministic: same parents and seed give the same genome, sex, spirit, name
SELECT ecs_breed('brd-f', 'brd-m', 'brd-c2', 42) AS child;
SELECT a.genome = b.genome AS same_genome, a.sex = b.sex AS same_sex,
       a.spirit_id = b.spirit_id AS same_spirit, a.name = b.name AS same_name
  FROM ecs.agents a, ecs.agents b WHERE a.agent_id = 'brd-c1' AND b.agent_id = 'brd-c2';
-- and another seed gives another child
SELECT ecs_breed('brd-f', 'brd-m', 'brd-c3', 43) AS child;
SELECT a.genome = b.genome AS same_genome
  FROM ecs.agents a, ecs.agents b WHERE a.agent_id = 'brd-c1' AND b.agent_id = 'brd-c3';

-- over many seeds: about half the traits from each parent, about half
-- female, spirits from both parents, names of those spirits, mean
-- mutation near 0 and its spread near the catalog sds
BEGIN;
CREATE TEMP TABLE kids ON COMMIT DROP AS
SELECT ecs_breed('brd-f', 'brd-m', NULL, s) AS id FROM generate_series(1, 400) s;
SELECT count(*) AS children, count(DISTINCT k.id) AS distinct_ids,
       bool_and(k.id ~ '^agent[0-9]+$') AS generated_ids,
       count(*) FILTER (WHERE a.sex = 'female') BETWEEN 160 AND 240 AS about_half_female,
       count(*) FILTER (WHERE a.spirit_id = 'wolf') BETWEEN 160 AND 240 AS about_half_wolf,
       bool_and(a.spirit_id IN ('wolf', 'bear')) AS spirits_of_parents,
       bool_and(a.name ~ (' of the ([A-Z][A-Za-z-]+ )?' || initcap(a.spirit_id) || '$')) AS names_of_spirit,
       bool_and(a.generation = 3) AS generation_3,
       bool_and(a.parent1_id = 'brd-f' AND a.parent2_id = 'brd-m') AS parents
  FROM kids k JOIN ecs.agents a ON a.agent_id = k.id;
-- per trait: share inherited from brd-f, and the mutation's mean and sd
-- against the catalog's mutation_sd (clamping is far: values stay near 0.2/0.8)
SELECT round(avg(CASE WHEN g < 0.5 THEN 1 ELSE 0 END), 1) AS share_from_f,
       round(avg(g - CASE WHEN g < 0.5 THEN 0.2 ELSE 0.8 END)::numeric, 2) AS mean_mutation,
       bool_and(sd_ok) AS mutation_sd_matches_catalog
  FROM (SELECT t.position, g,
               abs(stddev(g - CASE WHEN g < 0.5 THEN 0.2 ELSE 0.8 END) OVER (PARTITION BY t.position) - t.mutation_sd)
                   <= 0.2 * t.mutation_sd AS sd_ok
          FROM kids k JOIN ecs.agents a ON a.agent_id = k.id
         CROSS JOIN LATERAL unnest(a.genome) WITH ORDINALITY u(g, i)
          JOIN ecs.trait_catalog t ON t.position = u.i - 1) x;
ROLLBACK;

-- clamping to [0, 1]: parents at the bounds with a large mutation sd
-- (children are read by the next statement: a statement does not see the
-- rows its own function calls insert)
BEGIN;
UPDATE ecs.trait_catalog SET mutation_sd = 0.5;
INSERT INTO ecs.agents (agent_id, sex, genome)
VALUES ('brd-lo', 'female', array_fill(0::real, ARRAY[16])),
       ('brd-hi', 'male', array_fill(1::real, ARRAY[16]));
CREATE TEMP TABLE wide ON COMMIT DROP AS
SELECT ecs_breed('brd-lo', 'brd-hi', NULL, s) AS id FROM generate_series(1, 20) s;
SELECT count(*) AS values, bool_and(g >= 0 AND g <= 1) AS clamped,
       count(*) FILTER (WHERE g IN (0, 1)) > 0 AS hits_bounds,
       count(*) FILTER (WHERE g > 0 AND g < 1) > 0 AS and_between
  FROM wide w JOIN ecs.agents a ON a.agent_id = w.id, unnest(a.genome) g;
-- mutation_sd 0: every trait copies a parent exactly
UPDATE ecs.trait_catalog SET mutation_sd = 0;
CREATE TEMP TABLE exact ON COMMIT DROP AS
SELECT ecs_breed('brd-lo', 'brd-hi', NULL, s) AS id FROM generate_series(1, 20) s;
SELECT count(*) AS values, bool_and(g IN (0, 1)) AS exact_copies
  FROM exact e JOIN ecs.agents a ON a.agent_id = e.id, unnest(a.genome) g;
ROLLBACK;

-- spirit: from a random parent, the other one's when that parent has none;
-- no spirit at all gives a name of the shared parts only
BEGIN;
CREATE TEMP TABLE half_spirit ON COMMIT DROP AS
SELECT ecs_breed('brd-f', 'brd-m2', NULL, s) AS id FROM generate_series(1, 40) s;
SELECT count(*) AS children, count(DISTINCT a.spirit_id) AS spirits, min(a.spirit_id) AS spirit
  FROM half_spirit h JOIN ecs.agents a ON a.agent_id = h.id;
SELECT ecs_breed('brd-f2', 'brd-m2', 'brd-c9', 5) AS child;
SELECT spirit_id IS NULL AS no_spirit, name ~ '^[A-Z][a-z]+( (the [A-Z][a-z]+|Twice-Born))?$' AS given_name_only
  FROM ecs.agents WHERE agent_id = 'brd-c9';
-- a disabled spirit is inherited and named all the same: seed 42 gives the
-- wolf child of brd-c1 above
UPDATE ecs.naming_spirits SET enabled = false WHERE spirit_id IN ('wolf', 'bear');
SELECT ecs_breed('brd-f', 'brd-m', 'brd-c10', 42) AS child;
SELECT a.spirit_id, a.name = c1.name AS same_name_as_c1
  FROM ecs.agents a, ecs.agents c1 WHERE a.agent_id = 'brd-c10' AND c1.agent_id = 'brd-c1';
ROLLBACK;

-- the child is a member of the pedigree: its parents' descendants
SELECT agent_id, depth FROM ecs_lineage('brd-f', 1, 'descendants') ORDER BY depth, agent_id;

-- ineligible parents (55000): the same agent, an inactive one, same sex,
-- too closely related (a parent and its child); nothing is written
SELECT count(*) AS agents_before FROM ecs.agents WHERE agent_id LIKE 'brd-%';
SELECT ecs_breed('brd-f', 'brd-f');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-m', 'brd-x');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-x', 'brd-m');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-f', 'brd-f2');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-f', 'brd-c1', 'brd-c99', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS agents_after FROM ecs.agents WHERE agent_id LIKE 'brd-%';

-- bad ids (22023): NULL or malformed parents, malformed child_id
SELECT ecs_breed(NULL, 'brd-m');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-f', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed(NULL, NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd f', 'brd-m');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-f', 'brd-m', 'no');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-f', 'brd-m', repeat('c', 65));
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-f', 'brd-m', 'brd/c');
\echo :LAST_ERROR_SQLSTATE
-- unknown parents (P0002)
SELECT ecs_breed('brd-nobody', 'brd-m');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-f', 'brd-nobody');
\echo :LAST_ERROR_SQLSTATE
-- a child id that is taken (23505)
SELECT ecs_breed('brd-f', 'brd-m', 'brd-c1');
\echo :LAST_ERROR_SQLSTATE
-- a child id that names one of the parents (22023)
SELECT ecs_breed('brd-f', 'brd-m', 'brd-m');
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_breed('brd-f', 'brd-m', 'brd-f');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS agents_still FROM ecs.agents WHERE agent_id LIKE 'brd-%';

-- eligibility agrees with ecs_compatibility_explain() on every pair of a
-- small inbred pedigree (7 generations of 6 agents mated within a few
-- lines, so relatives meet at every depth), at several kinship depths and
-- thresholds; counts of both outcomes show the test is not vacuous
BEGIN;
DO $$
DECLARE
    g int;
    i int;
BEGIN
    FOR i IN 0..5 LOOP
        INSERT INTO ecs.agents (agent_id, sex, genome)
        VALUES ('bk-0-' || i, CASE WHEN i < 3 THEN 'female' ELSE 'male' END,
                array_fill(0.5::real, ARRAY[16]));
    END LOOP;
    FOR g IN 1..7 LOOP
        FOR i IN 0..5 LOOP
            INSERT INTO ecs.agents (agent_id, sex, generation, parent1_id, parent2_id, genome)
            VALUES ('bk-' || g || '-' || i, CASE WHEN i < 3 THEN 'female' ELSE 'male' END, g,
                    -- mother: a female of the last generation; father: a
                    -- male of the last one, or of the one before
                    'bk-' || (g - 1) || '-' || ((i * 7 + g) % 3),
                    'bk-' || CASE WHEN g >= 2 AND (i + g) % 4 = 0 THEN g - 2 ELSE g - 1 END
                          || '-' || (3 + (i * 5 + 2 * g) % 3),
                    array_fill(0.5::real, ARRAY[16]));
        END LOOP;
    END LOOP;
END $$;
CREATE TEMP TABLE bk_pairs ON COMMIT DROP AS
SELECT f.agent_id::text AS a, m.agent_id::text AS b
  FROM ecs.agents f, ecs.agents m
 WHERE f.agent_id LIKE 'bk-%' AND m.agent_id LIKE 'bk-%'
   AND f.sex = 'female' AND m.sex = 'male' AND f.generation >= 3 AND m.generation >= 3;
CREATE FUNCTION pg_temp.bk_agree(OUT pairs int, OUT eligible int, OUT ineligible int, OUT disagree int)
LANGUAGE plpgsql AS $f$
DECLARE
    p record;
    bred bool;
    expl bool;
BEGIN
    pairs := 0; eligible := 0; ineligible := 0; disagree := 0;
    FOR p IN SELECT a, b FROM bk_pairs ORDER BY a, b LOOP
        SELECT x.eligible INTO expl FROM ecs_compatibility_explain(p.a, p.b) x;
        BEGIN
            PERFORM ecs_breed(p.a, p.b, NULL, 1);
            bred := true;
            RAISE SQLSTATE 'P0001';		-- undo the child: every pair sees the same pedigree
        EXCEPTION
            WHEN SQLSTATE 'P0001' THEN NULL;
            WHEN SQLSTATE '55000' THEN bred := false;
        END;
        pairs := pairs + 1;
        IF bred THEN eligible := eligible + 1; ELSE ineligible := ineligible + 1; END IF;
        IF bred IS DISTINCT FROM expl THEN disagree := disagree + 1; END IF;
    END LOOP;
END $f$;
SELECT * FROM pg_temp.bk_agree();
SET LOCAL ecs_agents.kinship_depth = 2;
SELECT * FROM pg_temp.bk_agree();
SET LOCAL ecs_agents.kinship_depth = 6;
SET LOCAL ecs_agents.max_relatedness = 0.5;
SELECT * FROM pg_temp.bk_agree();
SET LOCAL ecs_agents.kinship_depth = 1;
SET LOCAL ecs_agents.max_relatedness = 0.3;
SELECT * FROM pg_temp.bk_agree();
-- a walk past max_lineage_nodes fails (54000) rather than deciding on part
-- of the pedigree
SET LOCAL ecs_agents.kinship_depth = 4;
SET LOCAL ecs_agents.max_lineage_nodes = 3;
SELECT ecs_breed('bk-7-0', 'bk-7-3');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- markings: a writer (VOLATILE, PARALLEL UNSAFE), not STRICT: NULL
-- child_id and seed have a meaning
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict, l.lanname
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.proname = 'ecs_breed';

DELETE FROM ecs.agents WHERE parent1_id LIKE 'brd-%' OR parent2_id LIKE 'brd-%';
DELETE FROM ecs.agents WHERE agent_id LIKE 'brd-%';
