
--
-- 45_genome_index: the genome index (genome_index*.c, genome_code.c).
--
-- A mate query is a float8[] of n targets then n weights; genome <~> query
-- is sum w |target - genome| / sum w, so 1 - (genome <~> query) is the trait
-- score.  The index access method ecs_genome answers
-- ORDER BY genome <~> query LIMIT k exactly (lower bounds from 8-bit codes,
-- exact distances rechecked by the executor); ecs_find_mates and
-- ecs_find_mates_batch order their candidates with this operator, so they
-- use the index when the planner finds it cheaper, and a sort when the
-- index is absent.  This part is also the 1.0 -> 1.1 update script.
--

CREATE FUNCTION @extschema@.ecs_genome_distance(genome pg_catalog.float4[], query pg_catalog.float8[])
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ecs_genome_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_genome_distance(pg_catalog.float4[], pg_catalog.float8[]) IS
    'weighted L1 distance of a genome from a mate query (n targets then n weights), divided by the weight sum; NULL for a genome of another length';

CREATE OPERATOR @extschema@.<~> (
    LEFTARG = pg_catalog.float4[],
    RIGHTARG = pg_catalog.float8[],
    FUNCTION = @extschema@.ecs_genome_distance
);
COMMENT ON OPERATOR @extschema@.<~> (pg_catalog.float4[], pg_catalog.float8[]) IS
    'mate distance: 1 - (genome <~> query) is the trait score; ORDER BY it uses an ecs_genome index';

CREATE FUNCTION @extschema@.ecs_genome_query(target pg_catalog.float8[], weights pg_catalog.float8[])
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ecs_genome_query'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_genome_query(pg_catalog.float8[], pg_catalog.float8[]) IS
    'the mate query target || weights, checked: finite targets, finite non-negative weights of positive sum, equal lengths (22023 otherwise)';

CREATE FUNCTION @extschema@.ecs_mate_query(agent_id pg_catalog.text)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ecs_mate_query'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_mate_query(pg_catalog.text) IS
    'the mate query of an agent: its targets (genome, complemented per trait mode) and the catalog weights; malformed id 22023, unknown agent P0002';

CREATE FUNCTION @extschema@.ecs_sex_compatible(a pg_catalog.text, b pg_catalog.text)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'ecs_sex_compatible'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_sex_compatible(pg_catalog.text, pg_catalog.text) IS
    'the sex filter of mate search: true when either sex is NULL or they differ; not strict';

CREATE OPERATOR @extschema@.<!> (
    LEFTARG = pg_catalog.text,
    RIGHTARG = pg_catalog.text,
    FUNCTION = @extschema@.ecs_sex_compatible,
    COMMUTATOR = OPERATOR(@extschema@.<!>)
);
COMMENT ON OPERATOR @extschema@.<!> (pg_catalog.text, pg_catalog.text) IS
    'may mate by sex: true when either side is NULL or they differ; a scan key of an ecs_genome index on (genome, sex)';

CREATE FUNCTION @extschema@.ecs_genome_index_handler(pg_catalog.internal)
RETURNS pg_catalog.index_am_handler
AS 'MODULE_PATHNAME', 'ecs_genome_index_handler'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.ecs_genome_index_handler(pg_catalog.internal) IS
    'index access method handler of ecs_genome';

CREATE ACCESS METHOD ecs_genome TYPE INDEX HANDLER @extschema@.ecs_genome_index_handler;
COMMENT ON ACCESS METHOD ecs_genome IS
    'genome codes for exact ORDER BY genome <~> query LIMIT k (filter and refine)';

CREATE OPERATOR CLASS @extschema@.ecs_genome_ops
    DEFAULT FOR TYPE pg_catalog.float4[] USING ecs_genome AS
    OPERATOR 1 @extschema@.<~> (pg_catalog.float4[], pg_catalog.float8[]) FOR ORDER BY pg_catalog.float_ops;
COMMENT ON OPERATOR CLASS @extschema@.ecs_genome_ops USING ecs_genome IS
    'genomes (real[]) ordered by <~> from a mate query';

CREATE OPERATOR CLASS @extschema@.ecs_genome_sex_ops
    DEFAULT FOR TYPE pg_catalog.text USING ecs_genome AS
    OPERATOR 1 @extschema@.<!> (pg_catalog.text, pg_catalog.text);
COMMENT ON OPERATOR CLASS @extschema@.ecs_genome_sex_ops USING ecs_genome IS
    'second column of an ecs_genome index (sex): entries grouped as female, male, other, so that a scan with sex <!> s skips the group of s';

CREATE FUNCTION @extschema@.ecs_genome_index_check(index pg_catalog.regclass,
                                                   heapallindexed pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'ecs_genome_index_check'
LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.ecs_genome_index_check(pg_catalog.regclass, pg_catalog.bool) IS
    'check of an ecs_genome index (metapage, page counters, slot states; with heapallindexed, an entry with the right codes for every visible row); returns its live entries, XX002 when corrupted';
REVOKE ALL ON FUNCTION @extschema@.ecs_genome_index_check(pg_catalog.regclass, pg_catalog.bool) FROM PUBLIC;

CREATE FUNCTION @extschema@.ecs_genome_kernel_check(seed pg_catalog.int8, entries pg_catalog.int4)
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'ecs_genome_kernel_check'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_genome_kernel_check(pg_catalog.int8, pg_catalog.int4) IS
    'self-test of the genome index kernels (fast scan and AVX2 against the scalar kernel) on random codes; returns the number of disagreements (0)';
REVOKE ALL ON FUNCTION @extschema@.ecs_genome_kernel_check(pg_catalog.int8, pg_catalog.int4) FROM PUBLIC;

CREATE INDEX agents_genome_idx ON ecs.agents USING ecs_genome (genome, sex);
COMMENT ON INDEX ecs.agents_genome_idx IS
    'genome codes grouped by sex: exact mate search without reading every genome (ecs_find_mates reads the other sex''s codes)';
