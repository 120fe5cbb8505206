
--
-- 25_builtin_rows: user changes to the rows the extension ships survive
-- pg_dump and restore.
--
-- CREATE EXTENSION inserts the builtin traits, spirits and components, so
-- pg_dump skips them (their rows would collide on restore) -- unless the
-- user changed them: an UPDATE of a builtin row marks it modified, the dump
-- filter keeps modified rows, and on restore the BEFORE INSERT trigger turns
-- the arriving copy of a builtin row into an UPDATE of the row CREATE
-- EXTENSION has just recreated.  Deleting a builtin row is not carried by a
-- dump: disable a spirit, or weight a component down, instead.
--

CREATE FUNCTION @extschema@.ecs_builtin_row_modified()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.builtin AND NOT NEW.modified AND NEW IS DISTINCT FROM OLD THEN
        NEW.modified := true;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_builtin_row_modified() IS
    'BEFORE UPDATE trigger of the reference tables: a changed builtin row is marked modified, so pg_dump keeps it';

CREATE FUNCTION @extschema@.ecs_builtin_row_restore()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT NEW.builtin THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'trait_catalog' THEN
        UPDATE ecs.trait_catalog t
           SET weight = NEW.weight, mode = NEW.mode, mutation_sd = NEW.mutation_sd, modified = true
         WHERE t.trait_name OPERATOR(pg_catalog.=) NEW.trait_name AND t.builtin;
    ELSIF TG_TABLE_NAME = 'naming_spirits' THEN
        UPDATE ecs.naming_spirits s
           SET display_name = NEW.display_name, enabled = NEW.enabled,
               favoured_trait = NEW.favoured_trait, modified = true
         WHERE s.spirit_id OPERATOR(pg_catalog.=) NEW.spirit_id AND s.builtin;
    ELSIF TG_TABLE_NAME = 'naming_components' THEN
        UPDATE ecs.naming_components c
           SET value = NEW.value, weight = NEW.weight, component_type = NEW.component_type,
               spirit_id = NEW.spirit_id, modified = true
         WHERE c.component_id OPERATOR(pg_catalog.=) NEW.component_id AND c.builtin;
    ELSE
        RAISE EXCEPTION 'ecs_builtin_row_restore fired for table %', TG_TABLE_NAME;
    END IF;
    IF FOUND THEN
        RETURN NULL;            -- the recreated builtin row now holds the change
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.ecs_builtin_row_restore() IS
    'BEFORE INSERT trigger of the reference tables: a builtin row arriving from a dump updates the row CREATE EXTENSION recreated';

CREATE TRIGGER trait_catalog_builtin_modified BEFORE UPDATE ON ecs.trait_catalog
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ecs_builtin_row_modified();
CREATE TRIGGER trait_catalog_builtin_restore BEFORE INSERT ON ecs.trait_catalog
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ecs_builtin_row_restore();
CREATE TRIGGER naming_spirits_builtin_modified BEFORE UPDATE ON ecs.naming_spirits
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ecs_builtin_row_modified();
CREATE TRIGGER naming_spirits_builtin_restore BEFORE INSERT ON ecs.naming_spirits
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ecs_builtin_row_restore();
CREATE TRIGGER naming_components_builtin_modified BEFORE UPDATE ON ecs.naming_components
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ecs_builtin_row_modified();
CREATE TRIGGER naming_components_builtin_restore BEFORE INSERT ON ecs.naming_components
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ecs_builtin_row_restore();
