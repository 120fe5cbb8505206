/* ecs_agents update 1.0 -> 1.1: this head, then src/sql/45_genome_index.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION ecs_agents UPDATE TO '1.1'" to load this file. \quit

--
-- 1.1 adds the genome index (access method ecs_genome, operator <~>, mate
-- queries, the index on ecs.agents.genome).  Functions whose definitions
-- changed since 1.0 are replaced here; the TAP test 005_upgrade checks that
-- an updated database has exactly the objects of a fresh 1.1 install.
--
