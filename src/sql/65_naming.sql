
--
-- 65_naming: names from the spirits' components (src/naming.c).
--
-- ecs_generate_name is C: it reads a spirit and its components with one
-- query and caches them for the rest of the statement, so ecs_spawn and
-- ecs_breed name thousands of agents a second.  ecs_spawn (20_writers) calls
-- it by this signature at run time.
--

CREATE FUNCTION @extschema@.ecs_generate_name(spirit pg_catalog.text, seed pg_catalog.int8 DEFAULT NULL)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'ecs_generate_name'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.ecs_generate_name(pg_catalog.text, pg_catalog.int8) IS
    'a name for an agent of an enabled spirit, e.g. "Swiftfang of the Grey Wolf": prefix + root [+ suffix] of the [title] spirit, each part a weighted draw of the shared and the spirit''s components; deterministic for a seed (same components, same name), random when seed is NULL; NULL spirit gives NULL; unknown spirit P0002, disabled spirit 55000 (the hint lists the enabled ones)';

-- The enabled spirits and how many names each can produce.
CREATE FUNCTION @extschema@.ecs_naming_spirits()
RETURNS TABLE (spirit_id pg_catalog.text, display_name pg_catalog.text,
               prefixes pg_catalog.int8, roots pg_catalog.int8,
               suffixes pg_catalog.int8, titles pg_catalog.int8,
               name_combinations pg_catalog.int8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT s.spirit_id, s.display_name, c.prefixes, c.roots, c.suffixes, c.titles,
           -- given names (at least one, the spirit's display name) x
           -- (no suffix or one of them) x (no title or one of them)
           (GREATEST(c.prefixes, 1::int8) OPERATOR(pg_catalog.*) GREATEST(c.roots, 1::int8))
               OPERATOR(pg_catalog.*) (c.suffixes OPERATOR(pg_catalog.+) 1)
               OPERATOR(pg_catalog.*) GREATEST(c.titles, 1::int8)
      FROM ecs.naming_spirits s
     CROSS JOIN LATERAL (
         SELECT pg_catalog.count(*) FILTER (WHERE nc.component_type OPERATOR(pg_catalog.=) 'prefix') AS prefixes,
                pg_catalog.count(*) FILTER (WHERE nc.component_type OPERATOR(pg_catalog.=) 'root') AS roots,
                pg_catalog.count(*) FILTER (WHERE nc.component_type OPERATOR(pg_catalog.=) 'suffix') AS suffixes,
                pg_catalog.count(*) FILTER (WHERE nc.component_type OPERATOR(pg_catalog.=) 'title') AS titles
           FROM ecs.naming_components nc
          WHERE nc.spirit_id IS NULL OR nc.spirit_id OPERATOR(pg_catalog.=) s.spirit_id) c
     WHERE s.enabled
     ORDER BY s.spirit_id;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_naming_spirits() IS
    'the enabled spirits ecs_generate_name accepts, with their component counts and the number of name combinations they allow';
