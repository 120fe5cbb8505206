--
-- markings: every function of the extension, with its volatility, parallel
-- safety, strictness, settings and security, then the rules they must follow
-- (SPEC sections 4, 7 and 9; STYLE "SQL scripts").  Each rule query lists
-- the functions that break it, so every one of them must return no rows.
--
CREATE TEMP VIEW ext_functions AS
SELECT p.oid,
       p.oid::regprocedure::text AS signature,
       p.proname::text AS name,
       l.lanname AS language,
       p.provolatile AS volatility,
       p.proparallel AS parallel,
       p.proisstrict AS strict,
       p.prosecdef AS security_definer,
       p.proretset AS returns_set,
       p.prokind AS kind,
       p.proconfig AS config
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
   AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'ecs_agents';

-- the whole list: a new function shows up here and must be looked at
SELECT signature, language, volatility, parallel, strict, security_definer, config
  FROM ext_functions ORDER BY signature;

-- functions live in the extension schema and are named ecs_*
SELECT signature FROM ext_functions
 WHERE name NOT LIKE 'ecs\_%'
    OR (SELECT n.nspname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         WHERE p.oid = ext_functions.oid)
       <> (SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'ecs_agents')
 ORDER BY 1;

-- no SECURITY DEFINER: functions run with the caller's privileges and RLS
SELECT signature FROM ext_functions WHERE security_definer ORDER BY 1;

-- every IMMUTABLE or STABLE function is PARALLEL SAFE (reads run in
-- parallel plans and on hot standbys)
SELECT signature, volatility, parallel FROM ext_functions
 WHERE volatility IN ('i', 's') AND parallel <> 's' ORDER BY 1;

-- every SQL or PL/pgSQL function pins its search_path (CVE-2018-1058)
SELECT signature, config FROM ext_functions
 WHERE language IN ('sql', 'plpgsql')
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (config), false)
 ORDER BY 1;

-- C functions need no search_path, but set nothing else either
SELECT signature, config FROM ext_functions WHERE language = 'c' AND config IS NOT NULL ORDER BY 1;

-- the read functions of SPEC section 4 are STABLE (or IMMUTABLE) and
-- PARALLEL SAFE, whichever of them exist yet
SELECT signature, volatility, parallel FROM ext_functions
 WHERE name IN ('ecs_compatibility', 'ecs_compatibility_explain', 'ecs_compatibility_batch',
                'ecs_find_mates', 'ecs_find_mates_batch', 'ecs_pair_population', 'ecs_lineage',
                'ecs_kinship', 'ecs_relatedness', 'ecs_inbreeding', 'ecs_social_stats',
                'ecs_agent_position', 'ecs_agents_near', 'ecs_naming_spirits', 'ecs_statement_stats')
   AND (volatility NOT IN ('s', 'i') OR parallel <> 's')
 ORDER BY 1;

-- the writers are VOLATILE and not PARALLEL SAFE
SELECT signature, volatility, parallel FROM ext_functions
 WHERE name IN ('ecs_spawn', 'ecs_relate', 'ecs_interact', 'ecs_add_trait', 'ecs_breed',
                'ecs_agents_before_write', 'ecs_agents_after_insert', 'ecs_agents_after_reparent')
   AND (volatility <> 'v' OR parallel = 's')
 ORDER BY 1;

-- a function that reads tables is not IMMUTABLE (its result would be cached
-- in plans and indexes); only the pure helpers may be
SELECT signature FROM ext_functions
 WHERE volatility = 'i'
   AND name NOT IN ('ecs_validate_agent_id', 'ecs_random', 'ecs_random_gaussian',
                    'ecs_check_kind', 'ecs_check_unit', 'ecs_genome_score',
                    'ecs_genome_distance', 'ecs_genome_query', 'ecs_sex_compatible')
 ORDER BY 1;

-- C functions that take arguments are STRICT, or document their NULL handling
-- here: these are the non-strict ones (ecs_find_mates and ecs_pair_population:
-- a NULL filter means "off", SPEC section 4; ecs_breed: NULL child_id and seed
-- mean generated and random; ecs_generate_name: NULL seed means random;
-- ecs_sex_compatible, the operator <!>: true when either sex is NULL)
-- (the index access method handler takes internal and is called by the server)
SELECT signature, language FROM ext_functions
 WHERE NOT strict AND language = 'c' AND signature NOT LIKE '%()'
   AND signature NOT LIKE '%(internal)'
 ORDER BY 1;

-- every function has a comment
SELECT signature FROM ext_functions
 WHERE pg_catalog.obj_description(oid, 'pg_proc') IS NULL
 ORDER BY 1;

-- every table, view, sequence and index in schema ecs has a comment, too
SELECT c.relkind, c.relname FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'ecs' AND c.relkind IN ('r', 'v', 'm', 'p')
   AND pg_catalog.obj_description(c.oid, 'pg_class') IS NULL
 ORDER BY 1, 2;

-- views run with the caller's privileges (RLS of the tables applies)
SELECT c.relname, c.reloptions FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'ecs' AND c.relkind = 'v'
   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
 ORDER BY 1;

DROP VIEW ext_functions;
