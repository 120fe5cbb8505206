
--
-- 20_writers: the row trigger of ecs.agents, deterministic random numbers,
-- and the validating writers ecs_spawn, ecs_relate, ecs_interact and
-- ecs_add_trait.  Writers are VOLATILE, validate every argument (22023 /
-- P0002 / 55000, SPEC section 6) before they write, and write in one
-- statement or under one lock, so a failed call leaves nothing behind.
--

CREATE FUNCTION @extschema@.ecs_agents_before_write()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ecs_agents_before_write'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.ecs_agents_before_write() IS
    'row trigger of ecs.agents: the genome matches the trait catalog';

CREATE TRIGGER agents_before_write
    BEFORE INSERT OR UPDATE ON ecs.agents
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ecs_agents_before_write();

CREATE FUNCTION @extschema@.ecs_random(seed pg_catalog.int8, i pg_catalog.int8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ecs_random'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_random(pg_catalog.int8, pg_catalog.int8) IS
    'draw i of the deterministic stream seed: uniform in [0, 1)';

CREATE FUNCTION @extschema@.ecs_random_gaussian(seed pg_catalog.int8, i pg_catalog.int8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ecs_random_gaussian'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ecs_random_gaussian(pg_catalog.int8, pg_catalog.int8) IS
    'draw i of the deterministic stream seed: standard normal';

-- ecs_check_agent: the id when it is valid and names an agent the caller
-- can see; else 22023 (malformed, NULL) or P0002 (unknown).
CREATE FUNCTION @extschema@.ecs_check_agent(id pg_catalog.text, argname pg_catalog.text DEFAULT 'agent_id')
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'agent id must not be null'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Argument %s is NULL.', argname);
    END IF;
    PERFORM @extschema@.ecs_validate_agent_id(id);
    PERFORM FROM ecs.agents a WHERE a.agent_id OPERATOR(pg_catalog.=) id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agent "%" does not exist', id
            USING ERRCODE = 'no_data_found',
                  HINT = 'Check the id, or list agents with SELECT agent_id FROM ecs.agents.';
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_check_agent(pg_catalog.text, pg_catalog.text) IS
    'returns the id of an existing agent; 22023 for a NULL or malformed id, P0002 for an unknown one';

-- ecs_check_spirit: the spirit when it exists and is enabled; P0002 / 55000
-- otherwise, with the enabled spirits in the hint.
CREATE FUNCTION @extschema@.ecs_check_spirit(spirit pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_enabled bool;
    enabled_list text;
BEGIN
    SELECT s.enabled INTO is_enabled FROM ecs.naming_spirits s WHERE s.spirit_id OPERATOR(pg_catalog.=) spirit;
    IF is_enabled IS NOT TRUE THEN
        SELECT pg_catalog.string_agg(s.spirit_id, ', ' ORDER BY s.spirit_id) INTO enabled_list
          FROM ecs.naming_spirits s WHERE s.enabled;
        IF is_enabled IS NULL THEN
            RAISE EXCEPTION 'spirit "%" does not exist', spirit
                USING ERRCODE = 'no_data_found',
                      HINT = format('Enabled spirits: %s.', coalesce(enabled_list, 'none'));
        END IF;
        RAISE EXCEPTION 'spirit "%" is disabled', spirit
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Enable it with UPDATE ecs.naming_spirits SET enabled = true, or use one of: %s.',
                                coalesce(enabled_list, 'none'));
    END IF;
    RETURN spirit;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_check_spirit(pg_catalog.text) IS
    'returns an enabled spirit id; P0002 for an unknown spirit, 55000 for a disabled one';

-- ecs_check_kind: relationship and interaction kinds are short lower-case words
CREATE FUNCTION @extschema@.ecs_check_kind(kind pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF kind IS NULL OR kind COLLATE "C" !~ '^[a-z][a-z0-9_]{0,31}$' THEN
        RAISE EXCEPTION 'invalid kind "%"', coalesce(kind, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A kind is 1 to 32 characters of a-z, 0-9 and _, starting with a letter (mate, friend, rival, ...).';
    END IF;
    RETURN kind;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_check_kind(pg_catalog.text) IS
    'returns a valid relationship or interaction kind, else 22023';

-- ecs_check_unit: a value in [-1, 1] (strengths, outcomes)
CREATE FUNCTION @extschema@.ecs_check_unit(val pg_catalog.float8, what pg_catalog.text)
RETURNS pg_catalog.float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF val IS NULL OR NOT (val >= -1 AND val <= 1) THEN
        RAISE EXCEPTION '% % is outside [-1, 1]', what, coalesce(val::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('The %s is a finite number between -1 and 1.', what);
    END IF;
    RETURN val;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_check_unit(pg_catalog.float8, pg_catalog.text) IS
    'returns a value in [-1, 1], else 22023';

------------------------------------------------------------------------------
-- spawning founders
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.ecs_spawn(n pg_catalog.int4, seed pg_catalog.int8 DEFAULT NULL,
                                      spirit pg_catalog.text DEFAULT NULL,
                                      id_prefix pg_catalog.text DEFAULT 'agent')
RETURNS SETOF pg_catalog.text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s int8 := coalesce(seed, (random() * 9.0e18)::int8);
    spirits text[];
BEGIN
    IF n IS NULL OR n < 0 OR n > 1000000 THEN
        RAISE EXCEPTION 'number of agents to spawn % is out of range', coalesce(n::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Spawn between 0 and 1000000 agents per call.';
    END IF;
    -- a prefix of 2..44 characters keeps prefix || number within 3..64
    IF id_prefix IS NULL OR id_prefix COLLATE "C" !~ '^[A-Za-z0-9_-]{2,44}$' THEN
        RAISE EXCEPTION 'invalid agent id prefix "%"', coalesce(id_prefix, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The prefix is 2 to 44 characters of A-Z, a-z, 0-9, _ and -; a number follows it.';
    END IF;
    IF spirit IS NULL THEN
        SELECT pg_catalog.array_agg(sp.spirit_id ORDER BY sp.spirit_id) INTO spirits
          FROM ecs.naming_spirits sp WHERE sp.enabled;
        IF spirits IS NULL THEN
            RAISE EXCEPTION 'no naming spirit is enabled'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Enable one with UPDATE ecs.naming_spirits SET enabled = true.';
        END IF;
    ELSE
        spirits := ARRAY[@extschema@.ecs_check_spirit(spirit)];
    END IF;
    -- The catalog is counted inside the INSERT, whose snapshot is taken
    -- after it has locked ecs.agents: an ecs_add_trait() that committed
    -- while this call waited is seen, and the genomes have its length.
    RETURN QUERY
    WITH draws AS (
        SELECT i,
               spirits[1 + pg_catalog.floor(@extschema@.ecs_random(s, i * 4096) * pg_catalog.cardinality(spirits))::int4] AS sp
          FROM pg_catalog.generate_series(0::int8, n - 1) AS i
    )
    INSERT INTO ecs.agents (agent_id, name, sex, spirit_id, generation, genome)
    SELECT id_prefix || pg_catalog.nextval('ecs.agent_number_seq'::pg_catalog.regclass),
           @extschema@.ecs_generate_name(d.sp, (@extschema@.ecs_random(s, d.i * 4096 + 2) * 9.0e18)::int8),
           CASE WHEN @extschema@.ecs_random(s, d.i * 4096 + 1) < 0.5 THEN 'female' ELSE 'male' END,
           d.sp,
           0,
           ARRAY(SELECT @extschema@.ecs_random(s, d.i * 4096 + 16 + t)::float4
                   FROM pg_catalog.generate_series(0, (SELECT pg_catalog.count(*)::int4 - 1 FROM ecs.trait_catalog)) AS t
                  ORDER BY t)
      FROM draws d
     ORDER BY d.i
    RETURNING agent_id::text;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_spawn(pg_catalog.int4, pg_catalog.int8, pg_catalog.text, pg_catalog.text) IS
    'creates n founders (generation 0) with random genomes, sexes, spirits and names; returns their ids';

------------------------------------------------------------------------------
-- relationships and interactions
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.ecs_relate(a pg_catalog.text, b pg_catalog.text,
                                       kind pg_catalog.text DEFAULT 'friend',
                                       strength pg_catalog.float8 DEFAULT 0)
RETURNS ecs.agent_relationships
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lo text;
    hi text;
    result ecs.agent_relationships;
BEGIN
    PERFORM @extschema@.ecs_check_agent(a, 'a');
    PERFORM @extschema@.ecs_check_agent(b, 'b');
    IF a = b THEN
        RAISE EXCEPTION 'agent "%" cannot have a relationship with itself', a
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@.ecs_check_kind(kind);
    PERFORM @extschema@.ecs_check_unit(strength, 'relationship strength');
    IF (a COLLATE "C") < (b COLLATE "C") THEN
        lo := a; hi := b;
    ELSE
        lo := b; hi := a;
    END IF;
    INSERT INTO ecs.agent_relationships AS r (agent1_id, agent2_id, kind, strength)
    VALUES (lo, hi, kind, strength)
    ON CONFLICT ON CONSTRAINT agent_relationships_pkey DO UPDATE SET strength = EXCLUDED.strength
    RETURNING r.* INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_relate(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.float8) IS
    'creates or updates the relationship of kind between a and b (unordered pair, stored smaller id first)';

CREATE FUNCTION @extschema@.ecs_interact(a pg_catalog.text, b pg_catalog.text,
                                         kind pg_catalog.text DEFAULT 'meet',
                                         outcome pg_catalog.float8 DEFAULT 0,
                                         occurred_at pg_catalog.timestamptz DEFAULT NULL)
RETURNS pg_catalog.int8
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id int8;
BEGIN
    PERFORM @extschema@.ecs_check_agent(a, 'a');
    PERFORM @extschema@.ecs_check_agent(b, 'b');
    IF a = b THEN
        RAISE EXCEPTION 'agent "%" cannot interact with itself', a
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@.ecs_check_kind(kind);
    PERFORM @extschema@.ecs_check_unit(outcome, 'interaction outcome');
    INSERT INTO ecs.agent_interactions (agent1_id, agent2_id, kind, outcome, occurred_at)
    VALUES (a, b, kind, outcome, coalesce(occurred_at, pg_catalog.now()))
    RETURNING interaction_id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_interact(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.float8, pg_catalog.timestamptz) IS
    'logs an interaction initiated by a towards b; returns its interaction_id';

------------------------------------------------------------------------------
-- the trait catalog
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.ecs_add_trait(name pg_catalog.text, weight pg_catalog.float8,
                                          mode pg_catalog.text DEFAULT 'similar',
                                          mutation_sd pg_catalog.float8 DEFAULT 0.05,
                                          default_value pg_catalog.float4 DEFAULT 0.5)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pos int4;
BEGIN
    IF name IS NULL OR name COLLATE "C" !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid trait name "%"', coalesce(name, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A trait name is 1 to 63 characters of a-z, 0-9 and _, starting with a letter.';
    END IF;
    IF weight IS NULL OR NOT (weight > 0 AND weight < 'Infinity') THEN
        RAISE EXCEPTION 'trait weight % must be a finite number greater than zero', coalesce(weight::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF mode IS NULL OR mode NOT IN ('similar', 'complement') THEN
        RAISE EXCEPTION 'invalid trait mode "%"', coalesce(mode, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use "similar" or "complement".';
    END IF;
    IF mutation_sd IS NULL OR NOT (mutation_sd >= 0 AND mutation_sd < 'Infinity') THEN
        RAISE EXCEPTION 'mutation sd % must be a finite number of at least zero', coalesce(mutation_sd::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF default_value IS NULL OR NOT (default_value >= 0 AND default_value <= 1) THEN
        RAISE EXCEPTION 'trait value % is outside [0, 1]', coalesce(default_value::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Every agent gets default_value for the new trait; use a finite number between 0 and 1.';
    END IF;

    -- one consistent change: no agent is written while the catalog grows.
    -- Lock order agents, then catalog: the order every writer of agents
    -- follows (its row trigger reads the catalog after the INSERT/UPDATE
    -- has locked agents), so the two never deadlock.
    LOCK TABLE ecs.agents IN SHARE ROW EXCLUSIVE MODE;
    LOCK TABLE ecs.trait_catalog IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT FROM ecs.trait_catalog c WHERE c.trait_name OPERATOR(pg_catalog.=) name) THEN
        RAISE EXCEPTION 'trait "%" already exists', name
            USING ERRCODE = 'unique_violation';
    END IF;
    SELECT pg_catalog.count(*) INTO pos FROM ecs.trait_catalog;
    INSERT INTO ecs.trait_catalog (trait_name, position, weight, mode, mutation_sd)
    VALUES (name, pos, weight, mode, mutation_sd);
    UPDATE ecs.agents SET genome = genome OPERATOR(pg_catalog.||) default_value;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_add_trait(pg_catalog.text, pg_catalog.float8, pg_catalog.text, pg_catalog.float8, pg_catalog.float4) IS
    'appends a trait to the catalog and default_value to every genome, in one transaction';
