/* ecs_agents update 1.0 -> 1.1: this head, then src/sql/21_pedigree_checks.sql and src/sql/45_genome_index.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION ecs_agents UPDATE TO '1.1'" to load this file. \quit

--
-- 1.1 adds the genome index (access method ecs_genome, operator <~>, mate
-- queries, the index on ecs.agents.genome).  Functions whose definitions
-- changed since 1.0 are replaced here; the TAP test 005_upgrade checks that
-- an updated database has exactly the objects of a fresh 1.1 install.
--

-- the social indexes become covering (index-only scans for ecs_social_stats);
-- this rebuilds them: on a large ecs.agent_interactions, expect minutes
DROP INDEX ecs.agent_relationships_agent1_idx;
DROP INDEX ecs.agent_relationships_agent2_idx;
DROP INDEX ecs.agent_interactions_agent1_idx;
DROP INDEX ecs.agent_interactions_agent2_idx;
CREATE INDEX agent_relationships_agent1_idx ON ecs.agent_relationships (agent1_id, kind) INCLUDE (strength);
CREATE INDEX agent_relationships_agent2_idx ON ecs.agent_relationships (agent2_id, kind) INCLUDE (strength);
CREATE INDEX agent_interactions_agent1_idx ON ecs.agent_interactions (agent1_id, occurred_at) INCLUDE (agent2_id, outcome);
CREATE INDEX agent_interactions_agent2_idx ON ecs.agent_interactions (agent2_id, occurred_at) INCLUDE (agent1_id, outcome);

-- parent-link cycles are checked after each statement, when all its rows
-- are in the table (1.0 checked each row before it was written, and missed
-- links made by other rows of the same statement): the triggers follow,
-- from src/sql/21_pedigree_checks.sql
COMMENT ON FUNCTION @extschema@.ecs_agents_before_write() IS
    'row trigger of ecs.agents: the genome matches the trait catalog';
