
--
-- 50_social: one agent's social statistics (SPEC section 4).
--
-- PL/pgSQL, not LANGUAGE sql: Citus rejects parameterised SQL functions over
-- distributed tables (SPEC section 9).  Each side of the interaction log is
-- read through its own (agentN_id, occurred_at) index, each side of the
-- relationships through its (agentN_id, kind) index; nothing scans a table.
--

CREATE FUNCTION @extschema@.ecs_social_stats(agent_id pg_catalog.text,
                                             since pg_catalog.timestamptz DEFAULT NULL)
RETURNS TABLE (interactions pg_catalog.int8,
               initiated pg_catalog.int8,
               received pg_catalog.int8,
               distinct_partners pg_catalog.int8,
               positive pg_catalog.int8,
               negative pg_catalog.int8,
               neutral pg_catalog.int8,
               mean_outcome pg_catalog.float8,
               last_interaction_at pg_catalog.timestamptz,
               relationships pg_catalog.int8,
               relationships_by_kind pg_catalog.jsonb,
               mean_strength pg_catalog.float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id text := @extschema@.ecs_check_agent(ecs_social_stats.agent_id, 'agent_id');
    -- -infinity keeps the index range condition a plain >= (NULL = no window)
    lower_bound timestamptz := coalesce(ecs_social_stats.since, '-infinity'::timestamptz);
BEGIN
    RETURN QUERY
    SELECT i.total, i.initiated, i.received, i.partners,
           i.positive, i.negative, i.neutral, i.mean_outcome, i.last_at,
           r.total, r.by_kind, r.mean_strength
      FROM (SELECT pg_catalog.count(*) AS total,
                   pg_catalog.count(*) FILTER (WHERE x.initiated) AS initiated,
                   pg_catalog.count(*) FILTER (WHERE NOT x.initiated) AS received,
                   pg_catalog.count(DISTINCT x.partner) AS partners,
                   pg_catalog.count(*) FILTER (WHERE x.outcome OPERATOR(pg_catalog.>) 0) AS positive,
                   pg_catalog.count(*) FILTER (WHERE x.outcome OPERATOR(pg_catalog.<) 0) AS negative,
                   pg_catalog.count(*) FILTER (WHERE x.outcome OPERATOR(pg_catalog.=) 0) AS neutral,
                   pg_catalog.avg(x.outcome) AS mean_outcome,
                   pg_catalog.max(x.occurred_at) AS last_at
              FROM (SELECT true AS initiated, ia.agent2_id::pg_catalog.text AS partner, ia.outcome, ia.occurred_at
                      FROM ecs.agent_interactions ia
                     WHERE ia.agent1_id OPERATOR(pg_catalog.=) id
                       AND ia.occurred_at OPERATOR(pg_catalog.>=) lower_bound
                    UNION ALL
                    SELECT false, ib.agent1_id::pg_catalog.text, ib.outcome, ib.occurred_at
                      FROM ecs.agent_interactions ib
                     WHERE ib.agent2_id OPERATOR(pg_catalog.=) id
                       AND ib.occurred_at OPERATOR(pg_catalog.>=) lower_bound) x) i
     CROSS JOIN
           (SELECT coalesce(pg_catalog.sum(k.n), 0)::pg_catalog.int8 AS total,
                   coalesce(pg_catalog.jsonb_object_agg(k.kind, k.n) FILTER (WHERE k.kind IS NOT NULL),
                            '{}'::pg_catalog.jsonb) AS by_kind,
                   pg_catalog.sum(k.strength_sum) OPERATOR(pg_catalog./) pg_catalog.sum(k.n) AS mean_strength
              FROM (SELECT y.kind, pg_catalog.count(*) AS n, pg_catalog.sum(y.strength) AS strength_sum
                      FROM (SELECT ra.kind, ra.strength
                              FROM ecs.agent_relationships ra
                             WHERE ra.agent1_id OPERATOR(pg_catalog.=) id
                            UNION ALL
                            SELECT rb.kind, rb.strength
                              FROM ecs.agent_relationships rb
                             WHERE rb.agent2_id OPERATOR(pg_catalog.=) id) y
                     GROUP BY y.kind) k) r;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_social_stats(pg_catalog.text, pg_catalog.timestamptz) IS
    'one row of social statistics of an agent: interactions (total, initiated, received, distinct partners, positive/negative/neutral outcomes, mean outcome, last time) at or after since (NULL: all), and its current relationships (total, count per kind as jsonb, mean strength); counts are 0 and relationships_by_kind {} when there are none, mean_outcome, last_interaction_at and mean_strength NULL; NULL or malformed agent_id 22023, unknown agent P0002';
