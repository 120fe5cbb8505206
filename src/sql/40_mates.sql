
--
-- 40_mates: exact top-k mate search (mates.c).  Not STRICT where NULL
-- filters mean "off"; a NULL agent or max_results gives no rows.
--

CREATE FUNCTION @extschema@.ecs_find_mates(agent_id pg_catalog.text,
                                           max_results pg_catalog.int4 DEFAULT 5,
                                           min_generation pg_catalog.int4 DEFAULT NULL,
                                           max_generation pg_catalog.int4 DEFAULT NULL,
                                           exclude_mated pg_catalog.bool DEFAULT false,
                                           max_distance pg_catalog.float8 DEFAULT NULL)
RETURNS TABLE (mate_id pg_catalog.text, score pg_catalog.float8, trait_score pg_catalog.float8,
               relatedness pg_catalog.float8, rank pg_catalog.int4)
AS 'MODULE_PATHNAME', 'ecs_find_mates'
LANGUAGE C STABLE PARALLEL SAFE
ROWS 5;
COMMENT ON FUNCTION @extschema@.ecs_find_mates(pg_catalog.text, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4, pg_catalog.bool, pg_catalog.float8) IS
    'exact top-k eligible mates by final score (ties by mate_id); NULL filters are off';

CREATE FUNCTION @extschema@.ecs_find_mates_batch(agent_ids pg_catalog.text[],
                                                 max_results pg_catalog.int4 DEFAULT 5)
RETURNS TABLE (agent_id pg_catalog.text, mate_id pg_catalog.text, score pg_catalog.float8,
               rank pg_catalog.int4)
AS 'MODULE_PATHNAME', 'ecs_find_mates_batch'
LANGUAGE C STABLE STRICT PARALLEL SAFE
ROWS 1000;
COMMENT ON FUNCTION @extschema@.ecs_find_mates_batch(pg_catalog.text[], pg_catalog.int4) IS
    'ecs_find_mates(agent, max_results) for every distinct agent of agent_ids, reading the population once';

CREATE FUNCTION @extschema@.ecs_pair_population(min_score pg_catalog.float8 DEFAULT 0,
                                                max_pairs pg_catalog.int4 DEFAULT NULL)
RETURNS TABLE (agent1_id pg_catalog.text, agent2_id pg_catalog.text, score pg_catalog.float8)
AS 'MODULE_PATHNAME', 'ecs_pair_population'
LANGUAGE C STABLE PARALLEL SAFE
ROWS 1000;
COMMENT ON FUNCTION @extschema@.ecs_pair_population(pg_catalog.float8, pg_catalog.int4) IS
    'greedy matching of the active agents by final score over each agent''s top-8 eligible mates; each agent at most once';
