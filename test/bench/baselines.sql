-- test/bench/baselines.sql — what an application writes without ecs_agents,
-- built on the generated population (schema bench, after generate.sql).
--
--   bench.traits                 the EAV trait table the original backend kept
--                                (agent_id, trait_name, value), PK + index
--   bench.interactions_noidx,    copies of the social tables without any index,
--   bench.relationships_noidx    for the GROUP BY social stats of the backend
--   bench.kinship_tabular()      PL/pgSQL tabular kinship over the same
--                                truncated sub-pedigree ecs_kinship() uses
--   bench.compatibility_plpgsql() PL/pgSQL compatibility: trait score over the
--                                EAV table times the kinship penalty
--   bench.expect_error()         runs one statement that must fail with one of
--                                the documented SQLSTATEs (pgbench load test)
-- The query baselines (EAV mates, recursive CTE lineage, GROUP BY stats) are
-- SQL text in bench.py, next to the calls they are compared with.

\set ON_ERROR_STOP on

DROP TABLE IF EXISTS bench.traits, bench.interactions_noidx, bench.relationships_noidx;

CREATE TABLE bench.traits AS
SELECT t.agent_id, t.trait_name, t.value::float8 AS value
  FROM ecs.agent_traits t
 ORDER BY t.agent_id, t.trait_name;
ALTER TABLE bench.traits ADD PRIMARY KEY (agent_id, trait_name);
CREATE INDEX traits_trait_name_idx ON bench.traits (trait_name);

CREATE TABLE bench.interactions_noidx AS
SELECT i.interaction_id, i.agent1_id::text AS agent1_id, i.agent2_id::text AS agent2_id,
       i.kind, i.outcome, i.occurred_at
  FROM ecs.agent_interactions i;
CREATE TABLE bench.relationships_noidx AS
SELECT r.agent1_id::text AS agent1_id, r.agent2_id::text AS agent2_id, r.kind, r.strength, r.since
  FROM ecs.agent_relationships r;

VACUUM ANALYZE bench.traits, bench.interactions_noidx, bench.relationships_noidx;

-- Tabular kinship (the textbook method): order the sub-pedigree so parents
-- come before children (by generation), then fill the n x n coancestry
-- matrix row by row: phi(j,j) = (1 + phi(p1,p2)) / 2,
-- phi(i,j) = (phi(i,p1(j)) + phi(i,p2(j))) / 2, unknown parents = 0.
-- The sub-pedigree is every agent within depth generations above a or b; a
-- parent outside it is unknown (SPEC section 3).
CREATE OR REPLACE FUNCTION bench.kinship_tabular(a text, b text, depth int)
RETURNS float8
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    ids text[];
    par1 text[];
    par2 text[];
    pos jsonb;
    p1 int[];
    p2 int[];
    n int;
    phi float8[];
    i int;
    j int;
    x int;
    y int;
    f1 float8;
    f2 float8;
BEGIN
    WITH RECURSIVE up(id, d) AS (
        SELECT v COLLATE "default", 0 FROM unnest(ARRAY[a, b]) v
        UNION
        SELECT par, up.d + 1
          FROM up
          JOIN ecs.agents g ON g.agent_id = up.id
         CROSS JOIN LATERAL (VALUES (g.parent1_id::text COLLATE "default"),
                                    (g.parent2_id::text COLLATE "default")) pv(par)
         WHERE up.d < depth AND pv.par IS NOT NULL)
    SELECT array_agg(g.agent_id::text COLLATE "default" ORDER BY g.generation, g.agent_id),
           array_agg(g.parent1_id::text COLLATE "default" ORDER BY g.generation, g.agent_id),
           array_agg(g.parent2_id::text COLLATE "default" ORDER BY g.generation, g.agent_id)
      INTO ids, par1, par2
      FROM ecs.agents g
     WHERE g.agent_id::text COLLATE "default" IN (SELECT DISTINCT up.id FROM up);
    n := cardinality(ids);
    IF n IS NULL OR NOT (a = ANY (ids)) OR NOT (b = ANY (ids)) THEN
        RAISE EXCEPTION 'agent does not exist' USING ERRCODE = 'no_data_found';
    END IF;
    SELECT jsonb_object_agg(v, o) INTO pos FROM unnest(ids) WITH ORDINALITY AS u(v, o);
    p1 := array_fill(0, ARRAY[n]);
    p2 := array_fill(0, ARRAY[n]);
    FOR i IN 1 .. n LOOP
        p1[i] := coalesce((pos ->> par1[i])::int, 0);
        p2[i] := coalesce((pos ->> par2[i])::int, 0);
    END LOOP;
    phi := array_fill(0::float8, ARRAY[n * n]);
    FOR j IN 1 .. n LOOP
        FOR i IN 1 .. j - 1 LOOP
            f1 := 0;
            f2 := 0;
            IF p1[j] > 0 THEN f1 := phi[(i - 1) * n + p1[j]]; END IF;
            IF p2[j] > 0 THEN f2 := phi[(i - 1) * n + p2[j]]; END IF;
            phi[(i - 1) * n + j] := (f1 + f2) / 2;
            phi[(j - 1) * n + i] := (f1 + f2) / 2;
        END LOOP;
        f1 := 0;
        IF p1[j] > 0 AND p2[j] > 0 THEN f1 := phi[(p1[j] - 1) * n + p2[j]]; END IF;
        phi[(j - 1) * n + j] := (1 + f1) / 2;
    END LOOP;
    x := (pos ->> a)::int;
    y := (pos ->> b)::int;
    RETURN phi[(x - 1) * n + y];
END
$$;

-- PL/pgSQL compatibility: trait score from the EAV table, kinship penalty
-- from the tabular kinship at the session's kinship depth.
CREATE OR REPLACE FUNCTION bench.compatibility_plpgsql(a text, b text, depth int)
RETURNS float8
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    ts float8;
    r float8;
BEGIN
    SELECT 1 - sum(c.weight * abs(CASE WHEN c.mode = 'similar' THEN ta.value ELSE 1 - ta.value END - tb.value))
               / sum(c.weight)
      INTO ts
      FROM bench.traits ta
      JOIN bench.traits tb ON tb.trait_name = ta.trait_name
      JOIN ecs.trait_catalog c ON c.trait_name = ta.trait_name
     WHERE ta.agent_id = a AND tb.agent_id = b;
    r := 2 * bench.kinship_tabular(a, b, depth);
    RETURN ts * greatest(0, 1 - 1.0 * r);
END
$$;

-- bench.expect_error(sql): run a statement that must fail with 22023 or
-- P0002 (the documented SQLSTATEs of a malformed / unknown id).  Returns the
-- SQLSTATE; any other error propagates (and pgbench counts a failure); no
-- error at all is an error too.
CREATE OR REPLACE FUNCTION bench.expect_error(stmt text)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    EXECUTE stmt;
    RAISE EXCEPTION 'expected an error from: %', stmt USING ERRCODE = 'XX000';
EXCEPTION
    WHEN invalid_parameter_value OR no_data_found THEN
        RETURN SQLSTATE;
END
$$;
