-- schema: every table, view, column, index and default row of SPEC section 2
SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'ecs_agents';
-- tables and their columns
SELECT c.relname, c.relkind,
       pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                             || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum) AS columns
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = 'ecs' AND c.relkind IN ('r', 'v')
 GROUP BY c.relname, c.relkind ORDER BY c.relname;
-- indexes
SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'ecs' ORDER BY tablename, indexname;
-- tables registered for pg_dump
SELECT unnest(extconfig)::regclass::text AS dumped, unnest(extcondition) AS filter
  FROM pg_extension WHERE extname = 'ecs_agents' ORDER BY 1;
-- default catalog: 16 traits, dense positions, mixed modes
SELECT count(*) AS traits, min(position), max(position), count(DISTINCT position) AS distinct_positions,
       count(*) FILTER (WHERE mode = 'similar') AS similar, count(*) FILTER (WHERE mode = 'complement') AS complement,
       bool_and(weight > 0) AS weights_positive, bool_and(mutation_sd >= 0) AS sd_ok
  FROM ecs.trait_catalog;
SELECT position, trait_name, weight, mode, mutation_sd FROM ecs.trait_catalog ORDER BY position;
-- spirits: at least 12 enabled
SELECT count(*) FILTER (WHERE enabled) AS enabled, count(*) FILTER (WHERE NOT enabled) AS disabled FROM ecs.naming_spirits;
SELECT spirit_id, display_name, enabled FROM ecs.naming_spirits ORDER BY spirit_id;
-- components: enough for thousands of distinct names per spirit
SELECT component_type, count(*) FILTER (WHERE spirit_id IS NULL) AS shared, count(*) FILTER (WHERE spirit_id IS NOT NULL) AS spirit_specific
  FROM ecs.naming_components GROUP BY component_type ORDER BY component_type;
SELECT s.spirit_id,
       (SELECT count(*) FROM ecs.naming_components c WHERE c.component_type = 'prefix' AND (c.spirit_id IS NULL OR c.spirit_id = s.spirit_id))
     * (SELECT count(*) FROM ecs.naming_components c WHERE c.component_type = 'root' AND (c.spirit_id IS NULL OR c.spirit_id = s.spirit_id))
     * (SELECT count(*) FROM ecs.naming_components c WHERE c.component_type = 'title' AND (c.spirit_id IS NULL OR c.spirit_id = s.spirit_id)) AS combinations
  FROM ecs.naming_spirits s WHERE s.spirit_id IN ('wolf', 'phoenix') ORDER BY 1;
-- settings and their defaults (the GUCs exist once the module is loaded; CREATE
-- EXTENSION alone does not load it, the first call of a C function does)
LOAD 'ecs_agents';
SELECT name, setting, min_val, max_val, context FROM pg_settings WHERE name LIKE 'ecs_agents.%' ORDER BY name;
-- the prefix is reserved: a typo is refused
SET ecs_agents.kinship_dept = 3;
-- out-of-range settings are refused by the GUC machinery
SET ecs_agents.kinship_depth = -1;
SET ecs_agents.kinship_depth = 33;
SET ecs_agents.kinship_penalty = -0.5;
SET ecs_agents.max_relatedness = 2.5;
SET ecs_agents.max_lineage_depth = -1;
SET ecs_agents.max_lineage_nodes = 0;
-- and in-range ones taken, per session
SET ecs_agents.kinship_depth = 6;
SHOW ecs_agents.kinship_depth;
RESET ecs_agents.kinship_depth;
SHOW ecs_agents.kinship_depth;
