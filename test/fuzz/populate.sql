-- test/fuzz/populate.sql: a small population for the fuzzers.
-- 120 founders, then 4 generations bred from earlier agents (shared
-- ancestors, half-siblings, one agent with a single known parent), with
-- relationships, interactions and positions.  Deterministic.
CREATE EXTENSION IF NOT EXISTS ecs_agents;
SELECT count(*) AS founders FROM ecs_spawn(120, 20240601, NULL, 'agent');
DO $$
DECLARE
    g int;
    i int;
    p1 text;
    p2 text;
    n int := 0;
BEGIN
    FOR g IN 1..4 LOOP
        FOR i IN 1..40 LOOP
            n := n + 1;
            SELECT agent_id INTO p1 FROM ecs.agents
             WHERE generation = g - 1 AND sex = 'female'
             ORDER BY ecs_random(g * 1000 + i, 1), agent_id LIMIT 1;
            SELECT agent_id INTO p2 FROM ecs.agents
             WHERE generation BETWEEN greatest(g - 2, 0) AND g - 1 AND sex = 'male'
             ORDER BY ecs_random(g * 1000 + i, 2), agent_id LIMIT 1;
            INSERT INTO ecs.agents (agent_id, name, sex, spirit_id, generation, parent1_id, parent2_id, genome)
            SELECT 'g' || g || 'kid' || i, 'Kid ' || n,
                   CASE WHEN ecs_random(n, 3) < 0.5 THEN 'female' ELSE 'male' END,
                   'wolf', g, p1, CASE WHEN i = 7 THEN NULL ELSE p2 END,
                   ARRAY(SELECT ecs_random(n, 100 + t)::real FROM generate_series(0, 15) t ORDER BY t);
        END LOOP;
    END LOOP;
END
$$;
SELECT count(*) AS relationships
  FROM (SELECT ecs_relate(a.agent_id, b.agent_id,
                          (ARRAY['friend', 'rival', 'mate'])[1 + (a.rn % 3)], ((a.rn % 11) - 5) / 5.0)
          FROM (SELECT agent_id, row_number() OVER (ORDER BY agent_id) AS rn FROM ecs.agents) a
          JOIN (SELECT agent_id, row_number() OVER (ORDER BY agent_id) AS rn FROM ecs.agents) b
            ON b.rn = (a.rn * 7) % 280 + 1 AND b.agent_id <> a.agent_id) x;
SELECT count(*) AS interactions
  FROM (SELECT ecs_interact(a.agent_id, b.agent_id, 'meet', ((a.rn % 9) - 4) / 4.0,
                            timestamptz '2024-01-01 00:00:00+00' + a.rn * interval '1 hour')
          FROM (SELECT agent_id, row_number() OVER (ORDER BY agent_id) AS rn FROM ecs.agents) a
          JOIN (SELECT agent_id, row_number() OVER (ORDER BY agent_id) AS rn FROM ecs.agents) b
            ON b.rn = (a.rn * 13) % 280 + 1 AND b.agent_id <> a.agent_id) x;
INSERT INTO ecs.agent_positions (agent_id, x, y)
SELECT agent_id, ecs_random(7, row_number() OVER (ORDER BY agent_id)) * 100,
       ecs_random(8, row_number() OVER (ORDER BY agent_id)) * 100
  FROM ecs.agents WHERE agent_id NOT LIKE 'g4%';
-- a non-superuser that may read and write the tables (sqlsmith runs as it)
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ecs_fuzzer') THEN
        CREATE ROLE ecs_fuzzer LOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA ecs TO ecs_fuzzer;
GRANT SELECT ON ALL TABLES IN SCHEMA ecs TO ecs_fuzzer;
-- data tables only: the catalog is changed through ecs_add_trait()
GRANT INSERT, UPDATE, DELETE ON ecs.agents, ecs.agent_relationships, ecs.agent_interactions,
    ecs.agent_positions TO ecs_fuzzer;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA ecs TO ecs_fuzzer;
SELECT count(*) AS agents FROM ecs.agents;
