
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

CREATE FUNCTION @extschema@.ecs_kinship(a pg_catalog.text, b pg_catalog.text)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ecs_kinship'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_kinship(pg_catalog.text, pg_catalog.text) IS
    'coefficient of coancestry phi(a, b) over the pedigree truncated at ecs_agents.kinship_depth generations';

CREATE FUNCTION @extschema@.ecs_relatedness(a pg_catalog.text, b pg_catalog.text)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ecs_relatedness'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_relatedness(pg_catalog.text, pg_catalog.text) IS
    'relatedness r(a, b) = 2 phi(a, b) (1 + F(a) when a = b)';

CREATE FUNCTION @extschema@.ecs_inbreeding(x pg_catalog.text)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ecs_inbreeding'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_inbreeding(pg_catalog.text) IS
    'inbreeding F(x) = phi(parent1, parent2); 0 when a parent is unknown';

--
-- scoring (compatibility.c, genome.c)
--

CREATE FUNCTION @extschema@.ecs_genome_score(genome pg_catalog.float4[], target pg_catalog.float8[],
                                             weights pg_catalog.float8[])
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ecs_genome_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_genome_score(pg_catalog.float4[], pg_catalog.float8[], pg_catalog.float8[]) IS
    'pure per-row trait score: 1 - sum(w |target - genome|) / sum(w); NULL for a genome of another length';

CREATE FUNCTION @extschema@.ecs_compatibility(a pg_catalog.text, b pg_catalog.text)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ecs_compatibility'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_compatibility(pg_catalog.text, pg_catalog.text) IS
    'final compatibility score: trait_score * max(0, 1 - kinship_penalty * relatedness)';

CREATE FUNCTION @extschema@.ecs_compatibility_explain(a pg_catalog.text, b pg_catalog.text,
    OUT trait_score pg_catalog.float8, OUT relatedness pg_catalog.float8,
    OUT final_score pg_catalog.float8, OUT eligible pg_catalog.bool, OUT reason pg_catalog.text)
RETURNS record
AS 'MODULE_PATHNAME', 'ecs_compatibility_explain'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_compatibility_explain(pg_catalog.text, pg_catalog.text) IS
    'the parts of ecs_compatibility(a, b) and whether b is an eligible mate of a (reason: eligible, same agent, mate is not active, same sex, too closely related)';

CREATE FUNCTION @extschema@.ecs_compatibility_batch(a pg_catalog.text[], b pg_catalog.text[])
RETURNS TABLE (agent1_id pg_catalog.text, agent2_id pg_catalog.text, score pg_catalog.float8)
AS 'MODULE_PATHNAME', 'ecs_compatibility_batch'
LANGUAGE C STABLE STRICT PARALLEL SAFE
ROWS 1000;
COMMENT ON FUNCTION @extschema@.ecs_compatibility_batch(pg_catalog.text[], pg_catalog.text[]) IS
    'final score of every pair (a[i], b[i]), in input order, in one call';
