-- test/bench/generate.sql — the benchmark's population generator.
--
-- Run by run.sh with psql variables n (agents), gens (generations), seed and
-- fast (on: load with session_replication_role = replica and validate the data
-- afterwards with bench.validate(); off: every row goes through the row trigger
-- and the foreign keys).  Deterministic for a seed: every random draw is
-- ecs_random(seed + stream, i) / ecs_random_gaussian(seed + stream, i) of the
-- agent's number, never random().
--
-- The population (ids agent1..agentN, numbered in generation order):
--   * generation 0: founders with uniform genomes;
--   * generations 1..gens-1, one INSERT ... SELECT each: mother = a female of
--     the previous generation, father = a male of one of the previous 1-3
--     generations, each picked with a skew (rank = floor(count * u^2), so a few
--     breeders have many children: heavy pedigree collapse, as in a closed
--     population).  Child trait t = the value of a random parent + N(0, sd_t)
--     (sd_t = the catalog's mutation_sd), clamped to [0, 1];
--   * sex 50/50, ~85% active (older generations less so), spirit of a random
--     parent, a name from a pool made by ecs_generate_name();
--   * positions for ~95% of agents, near the mother's (families cluster);
--   * relationships, ~1 per agent: mates (the parent pairs), friends, rivals;
--   * interactions, ~10 per agent: initiators drawn with a power law over a
--     fixed permutation of the agents (a few very social agents), targets half
--     from the initiator's neighbourhood, half power-law.
--
-- Random streams (seed + k):  1 sex, 2 active, 3 spirit, 4 mother rank,
-- 5 father generation, 6 father rank, 7 name, 8/9 position, 10 born_at,
-- 11 trait parent choice, 12 trait mutation (gaussian), 20.. relationships,
-- 30.. interactions.  Index i = agent number (times 16 + trait for traits).

\set ON_ERROR_STOP on

DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- breeders of each generation by sex, numbered 0..count-1 (for O(1) picks)
CREATE TABLE bench.breeders (
    gen int4 NOT NULL,
    sex text NOT NULL,
    k int4 NOT NULL,
    num int8 NOT NULL,
    PRIMARY KEY (gen, sex, k)
);
CREATE TABLE bench.breeder_counts (
    gen int4 NOT NULL,
    sex text NOT NULL,
    cnt int4 NOT NULL,
    PRIMARY KEY (gen, sex)
);
-- a pool of names per spirit, made with ecs_generate_name()
CREATE TABLE bench.names (
    spirit_id text NOT NULL,
    k int4 NOT NULL,
    name text NOT NULL,
    PRIMARY KEY (spirit_id, k)
);
CREATE TABLE bench.params (
    n int8 NOT NULL,
    gens int4 NOT NULL,
    gen_size int8 NOT NULL,
    seed int8 NOT NULL,
    fast bool NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    seconds float8
);
CREATE TABLE bench.gen_timing (
    step text PRIMARY KEY,
    seconds float8 NOT NULL,
    rows int8
);

-- agent number -> position in the social ranking is a fixed permutation:
-- num = 1 + (rank * 2654435761) mod n  (2654435761 is prime, so coprime to n
-- unless n is a multiple of it)
CREATE FUNCTION bench.social_agent(rank int8, n int8) RETURNS int8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT 1 + (rank * 2654435761) % n $$;

-- bench.pop: the population as plain integers (agent number, parents'
-- numbers), built generation by generation without the costs of the real
-- tables (id domain checks, seven indexes); bench.load() copies it into
-- ecs.agents and ecs.agent_positions.
CREATE TABLE bench.pop (
    num int8 PRIMARY KEY,
    gen int4 NOT NULL,
    sex text NOT NULL,
    spirit_id text NOT NULL,
    mother int8,
    father int8,
    x float8 NOT NULL,
    y float8 NOT NULL,
    genome float4[] NOT NULL
);
-- relationships, staged with a row number so loaders can split them
CREATE TABLE bench.rel (
    rid int8 PRIMARY KEY,
    agent1_id text NOT NULL,
    agent2_id text NOT NULL,
    kind text NOT NULL,
    strength float8 NOT NULL,
    since timestamptz NOT NULL
);

CREATE PROCEDURE bench.generate(n int8, gens int4, seed int8)
LANGUAGE plpgsql
AS $$
DECLARE
    s int8 := seed;
    gsize int8;
    g int4;
    lo int8;
    hi int8;
    nt int4;
    sd float8[];
    spirits text[];
    npool int4 := 100;
    t0 timestamptz;
    cnt int8;
BEGIN
    IF n < 100 OR gens < 2 THEN
        RAISE EXCEPTION 'need at least 100 agents and 2 generations';
    END IF;
    gsize := n / gens;
    IF gsize * gens <> n THEN
        RAISE EXCEPTION 'n (%) must be a multiple of gens (%)', n, gens;
    END IF;
    SELECT count(*), array_agg(c.mutation_sd ORDER BY c.position)
      INTO nt, sd FROM ecs.trait_catalog c;
    INSERT INTO bench.params (n, gens, gen_size, seed, fast)
    VALUES (n, gens, gsize, seed, current_setting('session_replication_role') = 'replica');
    SELECT array_agg(sp.spirit_id ORDER BY sp.spirit_id) INTO spirits
      FROM ecs.naming_spirits sp WHERE sp.enabled;

    -- names: npool per spirit
    t0 := clock_timestamp();
    INSERT INTO bench.names (spirit_id, k, name)
    SELECT sp, k, ecs_generate_name(sp, (ecs_random(s + 7, k * 64 + o) * 9.0e18)::int8)
      FROM unnest(spirits) WITH ORDINALITY AS u(sp, o),
           generate_series(0, npool - 1) AS k;
    INSERT INTO bench.gen_timing VALUES ('names', extract(epoch FROM clock_timestamp() - t0), npool * cardinality(spirits));

    -- founders
    t0 := clock_timestamp();
    INSERT INTO bench.pop (num, gen, sex, spirit_id, x, y, genome)
    SELECT num, 0,
           CASE WHEN ecs_random(s + 1, num) < 0.5 THEN 'female' ELSE 'male' END,
           spirits[1 + floor(ecs_random(s + 3, num) * cardinality(spirits))::int4],
           ecs_random(s + 8, num) * 1000, ecs_random(s + 9, num) * 1000,
           ARRAY(SELECT ecs_random(s + 11, num * 16 + t)::float4
                   FROM generate_series(0, nt - 1) AS t ORDER BY t)
      FROM generate_series(1::int8, gsize) AS num
     ORDER BY num;
    ANALYZE bench.pop;

    -- the generations
    FOR g IN 0 .. gens - 1 LOOP
        lo := g * gsize + 1;
        hi := (g + 1) * gsize;
        IF g > 0 THEN
            -- generation g: mother from g-1, father from g-1..g-3, skewed
            -- ranks; child trait = a random parent's + N(0, mutation_sd);
            -- position near the mother's.  EXECUTE: a fresh plan each time.
            EXECUTE $q$
            INSERT INTO bench.pop (num, gen, sex, spirit_id, mother, father, x, y, genome)
            SELECT p.num, $2, p.sex,
                   CASE WHEN ecs_random($1 + 3, p.num) < 0.5 THEN mo.spirit_id ELSE fa.spirit_id END,
                   mo.num, fa.num,
                   greatest(0.0, least(1000.0, mo.x + 30 * ecs_random_gaussian($1 + 8, p.num))),
                   greatest(0.0, least(1000.0, mo.y + 30 * ecs_random_gaussian($1 + 9, p.num))),
                   ARRAY(SELECT greatest(0.0, least(1.0,
                             CASE WHEN ecs_random($1 + 11, p.num * 16 + t) < 0.5
                                  THEN mo.genome[t + 1] ELSE fa.genome[t + 1] END
                             + $6[t + 1] * ecs_random_gaussian($1 + 12, p.num * 16 + t)))::float4
                           FROM generate_series(0, $5 - 1) AS t ORDER BY t)
              FROM (SELECT num,
                           CASE WHEN ecs_random($1 + 1, num) < 0.5 THEN 'female' ELSE 'male' END AS sex,
                           ecs_random($1 + 4, num) AS u_mother,
                           greatest(0, $2 - 1 - floor(ecs_random($1 + 5, num) * 3)::int4) AS father_gen,
                           ecs_random($1 + 6, num) AS u_father
                      FROM generate_series($3, $4) AS num) p
              JOIN bench.breeder_counts mc ON mc.gen = $2 - 1 AND mc.sex = 'female'
              JOIN bench.breeders mb ON mb.gen = $2 - 1 AND mb.sex = 'female'
                                    AND mb.k = floor(mc.cnt * p.u_mother * p.u_mother)::int4
              JOIN bench.pop mo ON mo.num = mb.num
              JOIN bench.breeder_counts fc ON fc.gen = p.father_gen AND fc.sex = 'male'
              JOIN bench.breeders fb ON fb.gen = p.father_gen AND fb.sex = 'male'
                                    AND fb.k = floor(fc.cnt * p.u_father * p.u_father)::int4
              JOIN bench.pop fa ON fa.num = fb.num
             ORDER BY p.num
            $q$ USING s, g, lo, hi, nt, sd;
            GET DIAGNOSTICS cnt = ROW_COUNT;
            IF cnt <> gsize THEN
                RAISE EXCEPTION 'generation % has % agents, expected %', g, cnt, gsize;
            END IF;
            -- keep the statistics the next plans see close to the data
            IF g & (g - 1) = 0 THEN
                ANALYZE bench.pop, bench.breeders, bench.breeder_counts;
            END IF;
        END IF;
        -- this generation's breeders, numbered per sex
        INSERT INTO bench.breeders (gen, sex, k, num)
        SELECT g, sex, (row_number() OVER (PARTITION BY sex ORDER BY num) - 1)::int4, num
          FROM (SELECT num, CASE WHEN ecs_random(s + 1, num) < 0.5 THEN 'female' ELSE 'male' END AS sex
                  FROM generate_series(lo, hi) AS num) b;
        INSERT INTO bench.breeder_counts (gen, sex, cnt)
        SELECT g, sex, count(*) FROM bench.breeders WHERE gen = g GROUP BY sex;
        IF (SELECT count(*) FROM bench.breeder_counts WHERE gen = g) <> 2 THEN
            RAISE EXCEPTION 'generation % lacks a sex', g;
        END IF;
    END LOOP;
    ANALYZE bench.pop;
    INSERT INTO bench.gen_timing VALUES ('pedigree and genomes', extract(epoch FROM clock_timestamp() - t0), n);

    -- relationships (~1 per agent): mates = the parent pairs (half of them),
    -- friends (0.4 n) and rivals (0.2 n) between power-law-social agents and
    -- their neighbours in numbering (same family line / generation)
    t0 := clock_timestamp();
    INSERT INTO bench.rel (rid, agent1_id, agent2_id, kind, strength, since)
    SELECT row_number() OVER (ORDER BY a1, a2, kind), a1, a2, kind, strength, since
      FROM (SELECT DISTINCT ON (a1, a2, kind) a1, a2, kind, strength, since
              FROM (SELECT CASE WHEN (x COLLATE "C") < (y COLLATE "C") THEN x ELSE y END AS a1,
                           CASE WHEN (x COLLATE "C") < (y COLLATE "C") THEN y ELSE x END AS a2,
                           kind, strength, since
                      FROM (SELECT 'agent' || p.mother AS x, 'agent' || p.father AS y, 'mate' AS kind,
                                   round((0.3 + 0.7 * ecs_random(s + 20, min(p.num)))::numeric, 3)::float8 AS strength,
                                   timestamptz '2000-01-01 00:00:00+00' + min(p.gen) * interval '1 year'
                                       - interval '300 days' AS since
                              FROM bench.pop p
                             WHERE p.mother IS NOT NULL
                             GROUP BY p.mother, p.father
                            HAVING ecs_random(s + 21, min(p.num)) < 0.5
                            UNION ALL
                            SELECT 'agent' || bench.social_agent(floor(n * ecs_random(s + 22, i) ^ 2)::int8, n),
                                   'agent' || (1 + (bench.social_agent(floor(n * ecs_random(s + 22, i) ^ 2)::int8, n) - 1
                                                    + (1 + floor(abs(ecs_random_gaussian(s + 23, i)) * gsize))::int8) % n),
                                   CASE WHEN ecs_random(s + 24, i) < 0.67 THEN 'friend' ELSE 'rival' END,
                                   CASE WHEN ecs_random(s + 24, i) < 0.67
                                        THEN round((0.1 + 0.9 * ecs_random(s + 25, i))::numeric, 3)::float8
                                        ELSE -round((0.1 + 0.9 * ecs_random(s + 25, i))::numeric, 3)::float8 END,
                                   timestamptz '2040-01-01 00:00:00+00' + ecs_random(s + 26, i) * interval '3650 days'
                              FROM generate_series(1::int8, (n * 6) / 10) AS i) r
                     WHERE x <> y) q
             ORDER BY a1, a2, kind, since) d;
    GET DIAGNOSTICS cnt = ROW_COUNT;
    INSERT INTO bench.gen_timing VALUES ('relationships (staged)', extract(epoch FROM clock_timestamp() - t0), cnt);
END
$$;

-- bench.load(worker, nworkers): copy the agents, positions and relationships
-- of this worker's share (contiguous ranges, in order) into the ecs tables.
-- Parallel workers need session_replication_role = replica (no foreign-key
-- checks across the shares); with the triggers on, run one worker.
CREATE PROCEDURE bench.load(worker int4, nworkers int4)
LANGUAGE plpgsql
AS $$
DECLARE
    n int8;
    s int8;
    gens int4;
    nrel int8;
    npool int4;
    lo int8;
    hi int8;
    t0 timestamptz := clock_timestamp();
BEGIN
    SELECT p.n, p.seed, p.gens INTO n, s, gens FROM bench.params p;
    SELECT count(*) INTO npool FROM bench.names WHERE spirit_id = (SELECT min(spirit_id) FROM bench.names);
    lo := n * worker / nworkers + 1;
    hi := n * (worker + 1) / nworkers;
    INSERT INTO ecs.agents (agent_id, name, sex, spirit_id, generation,
                            parent1_id, parent2_id, born_at, active, genome)
    SELECT 'agent' || p.num, nm.name, p.sex, p.spirit_id, p.gen,
           'agent' || p.mother, 'agent' || p.father,
           timestamptz '2000-01-01 00:00:00+00' + p.gen * interval '1 year'
               + ecs_random(s + 10, p.num) * interval '365 days',
           -- ~86% active overall: the young are alive, the old mostly not
           ecs_random(s + 2, p.num) < CASE WHEN p.gen >= gens - 30 THEN 0.97 ELSE 0.70 END,
           p.genome
      FROM bench.pop p
      JOIN bench.names nm ON nm.spirit_id = p.spirit_id
                         AND nm.k = floor(ecs_random(s + 7, p.num) * npool)::int4
     WHERE p.num BETWEEN lo AND hi
     ORDER BY p.num;
    -- ids agent1..agentN are taken: generated ids (ecs_spawn, ecs_breed) follow them
    PERFORM pg_catalog.setval('ecs.agent_number_seq', n);
    INSERT INTO ecs.agent_positions (agent_id, x, y)
    SELECT 'agent' || p.num, p.x, p.y
      FROM bench.pop p
     WHERE p.num BETWEEN lo AND hi AND ecs_random(s + 13, p.num) < 0.95
     ORDER BY p.num;
    SELECT count(*) INTO nrel FROM bench.rel;
    INSERT INTO ecs.agent_relationships (agent1_id, agent2_id, kind, strength, since)
    SELECT r.agent1_id, r.agent2_id, r.kind, r.strength, r.since
      FROM bench.rel r
     WHERE r.rid BETWEEN nrel * worker / nworkers + 1 AND nrel * (worker + 1) / nworkers
     ORDER BY r.rid;
    INSERT INTO bench.gen_timing VALUES ('agents, positions, relationships, worker ' || worker,
                                         extract(epoch FROM clock_timestamp() - t0), hi - lo + 1);
END
$$;

-- interactions (~10 per agent): interaction i is a pure function of (seed, i),
-- with interaction_id = i, so workers can insert disjoint blocks of 50000
-- in parallel (worker w of nworkers takes the blocks b with b % nworkers = w)
-- and the table comes out the same.
CREATE PROCEDURE bench.generate_interactions(worker int4, nworkers int4)
LANGUAGE plpgsql
AS $$
DECLARE
    n int8;
    s int8;
    total int8;
    b int8;
    lo int8;
    hi int8;
    t0 timestamptz := clock_timestamp();
BEGIN
    SELECT p.n, p.seed INTO n, s FROM bench.params p;
    total := n * 10;
    b := worker;
    WHILE b * 50000 < total LOOP
        lo := b * 50000 + 1;
        hi := least((b + 1) * 50000, total);
        INSERT INTO ecs.agent_interactions (interaction_id, agent1_id, agent2_id, kind, outcome, occurred_at)
        SELECT i, 'agent' || ini, 'agent' || CASE WHEN tgt = ini THEN 1 + ini % n ELSE tgt END,
               (ARRAY['meet', 'meet', 'meet', 'trade', 'trade', 'play', 'groom', 'fight'])
                   [1 + floor(ecs_random(s + 32, i) * 8)::int4],
               round(greatest(-1.0, least(1.0, 0.15 + 0.4 * ecs_random_gaussian(s + 33, i)))::numeric, 3)::float8,
               timestamptz '2049-01-01 00:00:00+00' + ecs_random(s + 34, i) * interval '365 days'
          FROM (SELECT i, ini,
                       CASE WHEN ecs_random(s + 35, i) < 0.5
                            -- a neighbour: close in numbering (family, generation)
                            THEN 1 + (ini - 1 + n + floor(ecs_random_gaussian(s + 36, i) * 50)::int8) % n
                            -- anyone, power law
                            ELSE bench.social_agent(floor(n * ecs_random(s + 37, i) ^ 2)::int8, n)
                       END AS tgt
                  FROM (SELECT i, bench.social_agent(floor(n * ecs_random(s + 31, i) ^ 3)::int8, n) AS ini
                          FROM generate_series(lo, hi) AS i) x) y
         ORDER BY i;
        b := b + nworkers;
    END LOOP;
    INSERT INTO bench.gen_timing VALUES ('interactions, worker ' || worker,
                                         extract(epoch FROM clock_timestamp() - t0), NULL);
END
$$;

-- Bulk load: the secondary indexes of the ecs tables (every index but the
-- primary keys, which the foreign keys need) are dropped before the load and
-- rebuilt after it from their saved definitions (pg_get_indexdef), the usual
-- bulk-load practice: one sorted build instead of millions of random inserts.
CREATE TABLE bench.saved_indexes (name text PRIMARY KEY, def text NOT NULL);

CREATE PROCEDURE bench.drop_indexes()
LANGUAGE plpgsql
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE i.indrelid IN ('ecs.agents'::regclass, 'ecs.agent_positions'::regclass,
                                   'ecs.agent_relationships'::regclass, 'ecs.agent_interactions'::regclass)
                AND NOT i.indisprimary AND NOT i.indisunique
                AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)
    LOOP
        INSERT INTO bench.saved_indexes VALUES (r.relname, r.def);
        EXECUTE format('DROP INDEX ecs.%I', r.relname);
    END LOOP;
END
$$;

CREATE PROCEDURE bench.restore_indexes()
LANGUAGE plpgsql
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT name, def FROM bench.saved_indexes ORDER BY name LOOP
        EXECUTE r.def;
    END LOOP;
    DELETE FROM bench.saved_indexes;
END
$$;

-- bench.validate(): the checks the row trigger and the foreign keys make,
-- as set-based queries, for a load done with session_replication_role =
-- replica.  Raises on the first violation; returns a summary.
CREATE FUNCTION bench.validate() RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    nt int4;
    bad int8;
BEGIN
    SELECT count(*) INTO nt FROM ecs.trait_catalog;
    SELECT count(*) INTO bad FROM ecs.agents a
     WHERE cardinality(a.genome) <> nt OR array_ndims(a.genome) <> 1
        OR EXISTS (SELECT FROM unnest(a.genome) v WHERE v IS NULL OR NOT (v >= 0 AND v <= 1));
    IF bad > 0 THEN RAISE EXCEPTION '% agents have a bad genome', bad; END IF;
    -- parent links: exist, and point to an earlier generation (so no cycle)
    SELECT count(*) INTO bad FROM ecs.agents a
      LEFT JOIN ecs.agents p1 ON p1.agent_id = a.parent1_id
      LEFT JOIN ecs.agents p2 ON p2.agent_id = a.parent2_id
     WHERE (a.parent1_id IS NOT NULL AND (p1.agent_id IS NULL OR p1.generation >= a.generation))
        OR (a.parent2_id IS NOT NULL AND (p2.agent_id IS NULL OR p2.generation >= a.generation));
    IF bad > 0 THEN RAISE EXCEPTION '% agents have a missing or later parent', bad; END IF;
    SELECT count(*) INTO bad FROM ecs.agent_positions x
     WHERE NOT EXISTS (SELECT FROM ecs.agents a WHERE a.agent_id = x.agent_id);
    IF bad > 0 THEN RAISE EXCEPTION '% positions of unknown agents', bad; END IF;
    SELECT count(*) INTO bad FROM ecs.agent_relationships r
     WHERE NOT EXISTS (SELECT FROM ecs.agents a WHERE a.agent_id = r.agent1_id)
        OR NOT EXISTS (SELECT FROM ecs.agents a WHERE a.agent_id = r.agent2_id);
    IF bad > 0 THEN RAISE EXCEPTION '% relationships of unknown agents', bad; END IF;
    SELECT count(*) INTO bad FROM ecs.agent_interactions r
     WHERE NOT EXISTS (SELECT FROM ecs.agents a WHERE a.agent_id = r.agent1_id)
        OR NOT EXISTS (SELECT FROM ecs.agents a WHERE a.agent_id = r.agent2_id);
    IF bad > 0 THEN RAISE EXCEPTION '% interactions of unknown agents', bad; END IF;
    RETURN 'valid: genomes, parent links (existing, earlier generation), foreign keys';
END
$$;
