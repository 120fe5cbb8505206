
--
-- 60_positions: the position component (ecs.agent_positions).
--
-- ecs_agents_near is a k-nearest-neighbour search on the GiST index on
-- point(x, y): ORDER BY point(x, y) <-> centre lets the index return rows
-- nearest first, and the loop stops at the first row beyond the radius or
-- after max_results rows, so a call reads at most max_results rows whatever
-- the radius and the table size.  The index cannot break ties by id (ORDER BY
-- distance, id would sort every row in the radius), so that scan only finds
-- the distance of the last neighbour kept, and a second, circle-bounded
-- index scan returns the rows within it in (distance, id) order.  Geometric
-- operators compare with a tolerance (1e-6), so the exact distance is
-- checked again.
--

CREATE FUNCTION @extschema@.ecs_agent_position(agent_id pg_catalog.text,
                                               OUT x pg_catalog.float8,
                                               OUT y pg_catalog.float8)
RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id text := @extschema@.ecs_check_agent(ecs_agent_position.agent_id, 'agent_id');
BEGIN
    SELECT p.x, p.y INTO x, y
      FROM ecs.agent_positions p
     WHERE p.agent_id OPERATOR(pg_catalog.=) id;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_agent_position(pg_catalog.text) IS
    'the position (x, y) of an agent; x and y NULL when the agent has no position; NULL or malformed agent_id 22023, unknown agent P0002';

CREATE FUNCTION @extschema@.ecs_agents_near(agent_id pg_catalog.text,
                                            radius pg_catalog.float8,
                                            max_results pg_catalog.int4 DEFAULT 10)
RETURNS TABLE (neighbor_id pg_catalog.text, distance pg_catalog.float8,
               x pg_catalog.float8, y pg_catalog.float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
ROWS 10
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id text := @extschema@.ecs_check_agent(ecs_agents_near.agent_id, 'agent_id');
    centre point;
    kth float8;
    d float8;
BEGIN
    IF radius IS NULL OR radius OPERATOR(pg_catalog.=) 'NaN'::float8 OR radius OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'radius % is not a number of at least zero', coalesce(radius::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a radius >= 0; ''Infinity'' finds the nearest agents at any distance.';
    END IF;
    IF max_results IS NULL OR max_results OPERATOR(pg_catalog.<) 1 OR max_results OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'max_results % is out of range', coalesce(max_results::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'max_results is between 1 and 1000.';
    END IF;

    SELECT pg_catalog.point(p.x, p.y) INTO centre
      FROM ecs.agent_positions p
     WHERE p.agent_id OPERATOR(pg_catalog.=) id;
    IF centre IS NULL THEN
        RETURN;                 -- no position, no neighbours
    END IF;

    -- 1. the distance of the last neighbour kept: a KNN index scan, read
    --    row by row until beyond the radius or max_results rows
    FOR d IN
        SELECT pg_catalog.point(p.x, p.y) OPERATOR(pg_catalog.<->) centre
          FROM ecs.agent_positions p
         WHERE p.agent_id OPERATOR(pg_catalog.<>) id
           AND EXISTS (SELECT FROM ecs.agents a WHERE a.agent_id OPERATOR(pg_catalog.=) p.agent_id)
         ORDER BY pg_catalog.point(p.x, p.y) OPERATOR(pg_catalog.<->) centre
         LIMIT max_results
    LOOP
        EXIT WHEN d OPERATOR(pg_catalog.>) radius;
        kth := d;
    END LOOP;
    IF kth IS NULL THEN
        RETURN;
    END IF;
    -- 2. everything within that distance (ties at it included), ordered by
    --    distance then id; the index cannot order by the id, hence two steps
    RETURN QUERY
    SELECT p.agent_id::text,
           pg_catalog.point(p.x, p.y) OPERATOR(pg_catalog.<->) centre,
           p.x, p.y
      FROM ecs.agent_positions p
     WHERE pg_catalog.point(p.x, p.y) OPERATOR(pg_catalog.<@) pg_catalog.circle(centre, kth)
       AND (pg_catalog.point(p.x, p.y) OPERATOR(pg_catalog.<->) centre) OPERATOR(pg_catalog.<=) kth
       AND p.agent_id OPERATOR(pg_catalog.<>) id
       AND EXISTS (SELECT FROM ecs.agents a WHERE a.agent_id OPERATOR(pg_catalog.=) p.agent_id)
     ORDER BY pg_catalog.point(p.x, p.y) OPERATOR(pg_catalog.<->) centre, p.agent_id
     LIMIT max_results;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_agents_near(pg_catalog.text, pg_catalog.float8, pg_catalog.int4) IS
    'agents with a position within radius (Euclidean, inclusive) of the agent, nearest first (ties by id), at most max_results (1..1000), the agent itself excluded; no rows when the agent has no position; NULL or malformed agent_id 22023, unknown agent P0002, radius NULL, NaN or negative 22023 (Infinity = any distance), max_results NULL or outside 1..1000 22023';
