
--
-- 80_views: convenience views over the components, and call statistics
-- taken from PostgreSQL's own statistics (no home-made monitoring).
-- Every view is security_invoker: the caller's privileges and row-level
-- security on the underlying tables apply.
--

-- One row per agent with its position and social counts.  The counts are
-- correlated index lookups per row: cheap for a filtered query
-- (WHERE agent_id = ..., LIMIT ...), proportional to the table for a full scan.
CREATE VIEW ecs.agent_overview WITH (security_invoker = true) AS
SELECT a.agent_id::pg_catalog.text AS agent_id,
       a.name,
       a.sex,
       a.spirit_id,
       a.generation,
       a.active,
       a.born_at,
       a.parent1_id::pg_catalog.text AS parent1_id,
       a.parent2_id::pg_catalog.text AS parent2_id,
       p.x,
       p.y,
       (SELECT pg_catalog.count(*) FROM ecs.agent_relationships r
         WHERE r.agent1_id OPERATOR(pg_catalog.=) a.agent_id)
       OPERATOR(pg_catalog.+)
       (SELECT pg_catalog.count(*) FROM ecs.agent_relationships r
         WHERE r.agent2_id OPERATOR(pg_catalog.=) a.agent_id) AS relationships,
       (SELECT pg_catalog.count(*) FROM ecs.agent_interactions i
         WHERE i.agent1_id OPERATOR(pg_catalog.=) a.agent_id) AS interactions_initiated,
       (SELECT pg_catalog.count(*) FROM ecs.agent_interactions i
         WHERE i.agent2_id OPERATOR(pg_catalog.=) a.agent_id) AS interactions_received
  FROM ecs.agents a
  LEFT JOIN ecs.agent_positions p ON p.agent_id OPERATOR(pg_catalog.=) a.agent_id;
COMMENT ON VIEW ecs.agent_overview IS 'one row per agent: identity, parents, position (NULL when none), number of relationships and of interactions initiated and received; filter it (the counts are per-row index lookups)';

CREATE VIEW ecs.enabled_spirits WITH (security_invoker = true) AS
SELECT s.spirit_id, s.display_name, s.builtin
  FROM ecs.naming_spirits s
 WHERE s.enabled;
COMMENT ON VIEW ecs.enabled_spirits IS 'the spirits ecs_generate_name and ecs_spawn accept';

-- Calls of the extension's functions, from pg_stat_user_functions.  Counted
-- only when track_functions is 'pl' (procedural-language functions: the
-- PL/pgSQL ones) or 'all' (also the SQL and C functions).
CREATE VIEW ecs.function_stats WITH (security_invoker = true) AS
SELECT s.funcid,
       s.funcid::pg_catalog.regprocedure::pg_catalog.text AS function,
       s.calls,
       s.total_time,
       s.self_time,
       s.total_time OPERATOR(pg_catalog./) NULLIF(s.calls, 0) AS mean_time
  FROM pg_catalog.pg_stat_user_functions s
 WHERE EXISTS (SELECT FROM pg_catalog.pg_depend d
                 JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                  AND d.objid OPERATOR(pg_catalog.=) s.funcid
                  AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                  AND d.deptype OPERATOR(pg_catalog.=) 'e'
                  AND e.extname OPERATOR(pg_catalog.=) 'ecs_agents');
COMMENT ON VIEW ecs.function_stats IS 'calls and times (ms) of the extension''s functions in this database, from pg_stat_user_functions; needs track_functions = all (C functions) or pl';

-- Statements of this database that call ecs_* functions, from
-- pg_stat_statements when it is installed and loaded; no rows otherwise.
-- pg_stat_statements is looked up through pg_extension, so the extension
-- does not depend on it.
CREATE FUNCTION @extschema@.ecs_statement_stats()
RETURNS TABLE (queryid pg_catalog.int8, query pg_catalog.text, calls pg_catalog.int8,
               total_exec_time pg_catalog.float8, mean_exec_time pg_catalog.float8,
               rows pg_catalog.int8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pgss_schema name;
BEGIN
    SELECT n.nspname INTO pgss_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'pg_stat_statements';
    -- the view raises 55000 unless the library is preloaded: check first
    IF pgss_schema IS NULL
       OR pg_catalog.current_setting('shared_preload_libraries') !~ '(^|[\s,])"?pg_stat_statements"?($|[\s,])' THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT s.queryid, s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.rows
           FROM %I.pg_stat_statements s
          WHERE s.dbid OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                                 WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
            AND s.query OPERATOR(pg_catalog.~) $1
          ORDER BY s.total_exec_time DESC, s.queryid',
        pgss_schema)
    USING '\mecs_[a-z_]+\s*\(';
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_statement_stats() IS
    'statements of this database that call ecs_* functions, from pg_stat_statements (most total time first); no rows when pg_stat_statements is not installed or not in shared_preload_libraries';
