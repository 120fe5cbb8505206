
--
-- 70_breed: children of eligible parents (src/breed.c).
--

CREATE FUNCTION @extschema@.ecs_breed(parent1 pg_catalog.text, parent2 pg_catalog.text,
                                      child_id pg_catalog.text DEFAULT NULL,
                                      seed pg_catalog.int8 DEFAULT NULL)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'ecs_breed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ecs_breed(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int8) IS
    'inserts a child of two eligible parents and returns its id: each trait from a random parent plus gaussian mutation (mutation_sd of the catalog) clamped to [0, 1], generation one more than the older parent, spirit and name from a random parent, random sex; deterministic for a seed (NULL seed: random); child_id NULL generates ''agent'' || nextval(''ecs.agent_number_seq''); parents are locked FOR SHARE; NULL or malformed parent 22023, malformed child_id 22023, unknown parent P0002, the same parent twice, an inactive parent or ineligible mates (ecs_compatibility_explain) 55000, child_id taken 23505';
