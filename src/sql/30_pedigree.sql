
--
-- 30_pedigree: bounded lineage walks, kinship, relatedness, inbreeding (C).
-- Readers: STABLE PARALLEL SAFE, STRICT (a NULL argument gives no rows / NULL).
--

CREATE FUNCTION @extschema@.ecs_lineage(agent_id pg_catalog.text,
                                        max_depth pg_catalog.int4 DEFAULT 3,
                                        direction pg_catalog.text DEFAULT 'ancestors')
RETURNS TABLE (agent_id pg_catalog.text, depth pg_catalog.int4, relation pg_catalog.text,
               generation pg_catalog.int4, name pg_catalog.text, sex pg_catalog.text,
               active pg_catalog.bool)
AS 'MODULE_PATHNAME', 'ecs_lineage'
LANGUAGE C STABLE STRICT PARALLEL SAFE
ROWS 100;
COMMENT ON FUNCTION @extschema@.ecs_lineage(pg_catalog.text, pg_catalog.int4, pg_catalog.text) IS
    'the agent (depth 0, relation self) and its ancestors, descendants or both within max_depth generations, each once at its smallest depth';
