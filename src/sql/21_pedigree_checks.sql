--
-- 21_pedigree_checks: parent links never make a cycle, checked once a
-- statement's rows are all in the table (src/validate.c).  Also the tail of
-- the 1.0 -> 1.1 update script (Makefile), which added them.
--

CREATE FUNCTION @extschema@.ecs_agents_after_insert()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ecs_agents_after_insert'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.ecs_agents_after_insert() IS
    'statement trigger of ecs.agents: the rows of one INSERT name no cycle of parents';

CREATE TRIGGER agents_after_insert
    AFTER INSERT ON ecs.agents
    REFERENCING NEW TABLE AS ecs_new_agents
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ecs_agents_after_insert();

CREATE FUNCTION @extschema@.ecs_agents_after_reparent()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ecs_agents_after_reparent'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.ecs_agents_after_reparent() IS
    'row trigger of ecs.agents: a changed parent link makes no cycle (checked after the statement)';

CREATE TRIGGER agents_after_reparent
    AFTER UPDATE OF parent1_id, parent2_id ON ecs.agents
    FOR EACH ROW
    WHEN (OLD.parent1_id IS DISTINCT FROM NEW.parent1_id OR OLD.parent2_id IS DISTINCT FROM NEW.parent2_id)
    EXECUTE FUNCTION @extschema@.ecs_agents_after_reparent();
