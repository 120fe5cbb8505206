--
-- privileges: functions never show a caller rows it could not SELECT itself
-- (SPEC section 7).  A role without privileges on the ecs tables gets 42501
-- from every function; a role that reads ecs.agents through a row-level
-- security policy never sees a hidden agent: it is not returned, walks do
-- not pass through it, and functions treat it as nonexistent (P0002).
-- Roles, grants and policies are made in one transaction that is rolled
-- back, so nothing stays (roles included: CREATE ROLE is transactional).
--
\set SHOW_CONTEXT never
\set ON_ERROR_ROLLBACK on
SET extra_float_digits = 0;
SELECT last_value AS seq_last, is_called AS seq_called FROM ecs.agent_number_seq \gset
SELECT n.nspname AS extschema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'ecs_agents' \gset

BEGIN;
CREATE ROLE regress_ecs_nopriv;
CREATE ROLE regress_ecs_reader;
CREATE ROLE regress_ecs_narrow;
GRANT USAGE ON SCHEMA ecs TO regress_ecs_nopriv, regress_ecs_reader, regress_ecs_narrow;
GRANT SELECT ON ALL TABLES IN SCHEMA ecs TO regress_ecs_reader;
GRANT INSERT, UPDATE ON ecs.agent_relationships TO regress_ecs_reader;
GRANT INSERT ON ecs.agent_interactions TO regress_ecs_reader;
-- ecs_breed inserts the child and locks the parents FOR SHARE, which takes
-- INSERT and an UPDATE privilege (one column is enough)
GRANT INSERT, UPDATE (active) ON ecs.agents TO regress_ecs_reader;
GRANT USAGE ON SEQUENCE ecs.agent_number_seq TO regress_ecs_reader;
-- narrow: the pedigree columns only
GRANT SELECT (agent_id, parent1_id, parent2_id) ON ecs.agents TO regress_ecs_narrow;

-- a small pedigree; 'hid_*' agents are hidden from the reader by RLS
--   hid_p (parents gp_a, gp_b)   vis_p
--            \                 /
--               kid  (generation 2)
--                |
--              hid_c
--                |
--              grand  (parent hid_c)
--   vis_c: another visible child of vis_p
INSERT INTO ecs.agents (agent_id, name, sex, generation, parent1_id, parent2_id, genome)
VALUES ('gp_a', 'Gp A', 'female', 0, NULL, NULL, array_fill(0.2::real, ARRAY[16])),
       ('gp_b', 'Gp B', 'male', 0, NULL, NULL, array_fill(0.4::real, ARRAY[16])),
       ('vis_p', 'Vis P', 'male', 1, NULL, NULL, array_fill(0.6::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, name, sex, generation, parent1_id, parent2_id, genome)
VALUES ('hid_p', 'Hid P', 'female', 1, 'gp_a', 'gp_b', array_fill(0.3::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, name, sex, generation, parent1_id, parent2_id, genome)
VALUES ('kid', 'Kid', 'female', 2, 'hid_p', 'vis_p', array_fill(0.5::real, ARRAY[16])),
       ('vis_c', 'Vis C', 'male', 2, 'vis_p', NULL, array_fill(0.5::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, name, sex, generation, parent1_id, parent2_id, genome)
VALUES ('hid_c', 'Hid C', 'male', 3, 'kid', 'vis_c', array_fill(0.5::real, ARRAY[16]));
INSERT INTO ecs.agents (agent_id, name, sex, generation, parent1_id, parent2_id, genome)
VALUES ('grand', 'Grand', 'female', 4, 'hid_c', NULL, array_fill(0.5::real, ARRAY[16]));
INSERT INTO ecs.agent_relationships (agent1_id, agent2_id, kind, strength)
VALUES ('hid_p', 'vis_p', 'mate', 1), ('kid', 'vis_c', 'friend', 0.5);
INSERT INTO ecs.agent_positions (agent_id, x, y)
VALUES ('kid', 0, 0), ('vis_c', 1, 1), ('hid_c', 0.5, 0.5);

-- what the owner (no RLS) sees, for reference
SELECT agent_id, depth, relation FROM ecs_lineage('kid', 3, 'both') ORDER BY depth, agent_id;
SELECT ecs_kinship('kid', 'gp_a') AS phi_kid_gp_a, ecs_relatedness('kid', 'gp_a') AS r_kid_gp_a,
       ecs_kinship('vis_c', 'vis_p') AS phi_vis_c_vis_p, ecs_inbreeding('grand') AS f_grand;
SELECT mate_id, rank FROM ecs_find_mates('kid', 50) ORDER BY rank;

---------------------------------------------------------------------------
-- a role with USAGE on schema ecs but no privileges on its tables: 42501
-- everywhere (terse: the internal query in the report is no assertion)
---------------------------------------------------------------------------
\set VERBOSITY terse
SET ROLE regress_ecs_nopriv;
SELECT * FROM ecs_lineage('kid');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_lineage('kid', 2, 'descendants');
\echo sqlstate: :SQLSTATE
SELECT ecs_check_agent('kid');
\echo sqlstate: :SQLSTATE
SELECT ecs_check_spirit('wolf');
\echo sqlstate: :SQLSTATE
SELECT ecs_generate_name('wolf', 1);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('kid', 'vis_c');
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('kid', 'vis_c');
\echo sqlstate: :SQLSTATE
SELECT ecs_spawn(1, 1, 'wolf');
\echo sqlstate: :SQLSTATE
SELECT ecs_add_trait('sneaky', 1);
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs.agent_traits;
\echo sqlstate: :SQLSTATE
SELECT ecs_kinship('kid', 'vis_c');
\echo sqlstate: :SQLSTATE
SELECT ecs_relatedness('kid', 'vis_c');
\echo sqlstate: :SQLSTATE
SELECT ecs_inbreeding('kid');
\echo sqlstate: :SQLSTATE
SELECT ecs_compatibility('kid', 'vis_c');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_compatibility_explain('kid', 'vis_c');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_compatibility_batch(ARRAY['kid'], ARRAY['vis_c']);
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_find_mates('kid');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_find_mates_batch(ARRAY['kid']);
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_pair_population();
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_social_stats('kid');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_agent_position('kid');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_agents_near('kid', 10);
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_naming_spirits();
\echo sqlstate: :SQLSTATE
SELECT ecs_breed('kid', 'gp_b', 'nopriv_child', 1);
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs.agent_overview;
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs.enabled_spirits;
\echo sqlstate: :SQLSTATE
-- a pure function reads no table
SELECT ecs_genome_score('{0.5,0.5}'::real[], '{0.5,0}', '{1,1}');
-- input checks that need no table still answer first
SELECT * FROM ecs_lineage('x');
\echo sqlstate: :SQLSTATE
RESET ROLE;

---------------------------------------------------------------------------
-- a role that may read only the pedigree columns of ecs.agents: the walk
-- reads more than that, so it is refused rather than half-answered
---------------------------------------------------------------------------
SET ROLE regress_ecs_narrow;
SELECT agent_id, parent1_id FROM ecs.agents WHERE agent_id = 'kid';
SELECT * FROM ecs_lineage('kid');
\echo sqlstate: :SQLSTATE
RESET ROLE;
\set VERBOSITY default

---------------------------------------------------------------------------
-- the reader, under row-level security
---------------------------------------------------------------------------
ALTER TABLE ecs.agents ENABLE ROW LEVEL SECURITY;
-- the table's row estimate (8 agents), read by the mate batch's choice of path
ANALYZE ecs.agents;
CREATE POLICY regress_ecs_hide ON ecs.agents FOR SELECT TO regress_ecs_reader
    USING (agent_id::text NOT LIKE 'hid\_%');
CREATE POLICY regress_ecs_insert ON ecs.agents FOR INSERT TO regress_ecs_reader
    WITH CHECK (true);
CREATE POLICY regress_ecs_lock ON ecs.agents FOR UPDATE TO regress_ecs_reader
    USING (agent_id::text NOT LIKE 'hid\_%');
SET ROLE regress_ecs_reader;
-- the reader's own view of the table
SELECT agent_id, parent1_id, parent2_id FROM ecs.agents ORDER BY agent_id;
-- ancestors: hid_p is not returned, and gp_a, gp_b (reached only through
-- hid_p) are not either
SELECT agent_id, depth, relation FROM ecs_lineage('kid', 3, 'ancestors') ORDER BY depth, agent_id;
-- descendants: hid_c is not returned, and grand (reached only through
-- hid_c) is not either
SELECT agent_id, depth, relation FROM ecs_lineage('kid', 3, 'descendants') ORDER BY depth, agent_id;
SELECT agent_id, depth, relation FROM ecs_lineage('vis_p', 5, 'descendants') ORDER BY depth, agent_id;
SELECT agent_id, depth, relation FROM ecs_lineage('gp_a', 5, 'descendants') ORDER BY depth, agent_id;
SELECT agent_id, depth, relation FROM ecs_lineage('grand', 5, 'ancestors') ORDER BY depth, agent_id;
SELECT agent_id, depth, relation FROM ecs_lineage('kid', 5, 'both') ORDER BY depth, agent_id;
-- no walk of the reader returns a hidden agent, from any start, any direction
SELECT count(*) AS hidden_rows_returned
  FROM ecs.agents a, LATERAL ecs_lineage(a.agent_id, 5, 'both') l
 WHERE l.agent_id LIKE 'hid\_%';
-- a hidden agent does not exist for the reader
SELECT * FROM ecs_lineage('hid_p');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_lineage('hid_c', 1, 'descendants');
\echo sqlstate: :SQLSTATE
SELECT ecs_check_agent('hid_p');
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('kid', 'hid_c', 'friend', 0.5);
\echo sqlstate: :SQLSTATE
SELECT ecs_relate('hid_c', 'kid', 'friend', 0.5);
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('hid_p', 'kid');
\echo sqlstate: :SQLSTATE
SELECT ecs_interact('kid', 'hid_p');
\echo sqlstate: :SQLSTATE
SELECT ecs_kinship('kid', 'hid_p');
\echo sqlstate: :SQLSTATE
SELECT ecs_kinship('hid_c', 'kid');
\echo sqlstate: :SQLSTATE
SELECT ecs_relatedness('kid', 'hid_c');
\echo sqlstate: :SQLSTATE
SELECT ecs_inbreeding('hid_c');
\echo sqlstate: :SQLSTATE
SELECT ecs_compatibility('kid', 'hid_c');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_compatibility_explain('hid_p', 'vis_p');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_compatibility_batch(ARRAY['kid', 'kid'], ARRAY['vis_c', 'hid_c']);
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_find_mates('hid_p');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_find_mates_batch(ARRAY['kid', 'hid_p']);
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_social_stats('hid_p');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_agent_position('hid_c');
\echo sqlstate: :SQLSTATE
SELECT * FROM ecs_agents_near('hid_c', 10);
\echo sqlstate: :SQLSTATE
SELECT ecs_breed('hid_p', 'vis_p', 'rls_child2', 1);
\echo sqlstate: :SQLSTATE
SELECT ecs_breed('kid', 'hid_c', 'rls_child2', 1);
\echo sqlstate: :SQLSTATE
-- kinship does not pass through a hidden agent: gp_a is kid's grandparent
-- only through hid_p, so for the reader they are unrelated (the owner sees
-- phi = 1/8 above); vis_p and vis_c stay parent and child
SELECT ecs_kinship('kid', 'gp_a') AS phi_kid_gp_a, ecs_relatedness('kid', 'gp_a') AS r_kid_gp_a,
       ecs_kinship('vis_c', 'vis_p') AS phi_vis_c_vis_p, ecs_inbreeding('grand') AS f_grand;
-- mate searches never return a hidden agent
SELECT mate_id, rank FROM ecs_find_mates('kid', 50) ORDER BY rank;
-- the batch reads the whole pedigree here (3 searches of 50: DEBUG1 says
-- so), as the reader sees it: kid is related to gp_b only through hidden
-- hid_p, so it is gp_b's mate (the owner sees r = 0.25, not eligible)
SET client_min_messages = debug1;
SELECT agent_id, mate_id, rank FROM ecs_find_mates_batch(ARRAY['gp_b', 'vis_c', 'grand'], 50) ORDER BY 1, 3;
RESET client_min_messages;
-- and gives the rows of single calls, for every agent the reader sees
SELECT count(*) AS differences FROM (
    (SELECT * FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents), 50)
     EXCEPT SELECT a.agent_id, m.mate_id, m.score, m.rank FROM ecs.agents a, ecs_find_mates(a.agent_id, 50) m)
    UNION ALL
    (SELECT a.agent_id, m.mate_id, m.score, m.rank FROM ecs.agents a, ecs_find_mates(a.agent_id, 50) m
     EXCEPT SELECT * FROM ecs_find_mates_batch((SELECT array_agg(agent_id::text) FROM ecs.agents), 50))) d;
-- a batch of few agents next to a large table searches each through the
-- genome index, as ecs_find_mates does (the table's estimate is raised by
-- hand, under a savepoint rolled back): the same rows, no hidden agent
RESET ROLE;
SAVEPOINT few_agents;
UPDATE pg_class SET reltuples = 1000000 WHERE oid = 'ecs.agents'::regclass;
SET ROLE regress_ecs_reader;
SELECT pg_stat_get_xact_numscans('ecs.agents_genome_idx'::regclass) AS scans_before \gset
CREATE TEMP TABLE few_batch AS SELECT * FROM ecs_find_mates_batch(ARRAY['gp_b', 'kid'], 50);
SELECT pg_stat_get_xact_numscans('ecs.agents_genome_idx'::regclass) - :scans_before >= 2 AS searched_through_the_index,
       (SELECT count(*) FROM few_batch WHERE mate_id LIKE 'hid\_%') AS hidden_returned,
       (SELECT count(*) FROM (
           (TABLE few_batch EXCEPT SELECT a, m.mate_id, m.score, m.rank FROM unnest(ARRAY['gp_b', 'kid']) a, ecs_find_mates(a, 50) m)
           UNION ALL
           (SELECT a, m.mate_id, m.score, m.rank FROM unnest(ARRAY['gp_b', 'kid']) a, ecs_find_mates(a, 50) m EXCEPT TABLE few_batch)) d) AS differences,
       (SELECT count(*) FROM few_batch) AS batch_rows;
SELECT * FROM ecs_find_mates_batch(ARRAY['kid', 'hid_p']);
\echo sqlstate: :SQLSTATE
ROLLBACK TO SAVEPOINT few_agents;
SET ROLE regress_ecs_reader;
SELECT count(*) AS hidden_in_pairs FROM ecs_pair_population(0) WHERE agent1_id LIKE 'hid\_%' OR agent2_id LIKE 'hid\_%';
SELECT count(*) AS hidden_as_mates FROM ecs.agents a, LATERAL ecs_find_mates(a.agent_id, 50) m WHERE m.mate_id LIKE 'hid\_%';
-- positions: hid_c stands between kid and vis_c, and is never a neighbour
SELECT neighbor_id, round(distance::numeric, 4) AS distance FROM ecs_agents_near('kid', 10) ORDER BY distance, neighbor_id;
SELECT neighbor_id FROM ecs_agents_near('vis_c', 'Infinity', 1000) ORDER BY neighbor_id;
-- social stats count the relationship and interaction rows the reader can
-- read itself (RLS is on ecs.agents only here): hid_p's mate row with vis_p
-- is a row of ecs.agent_relationships the reader may select
SELECT interactions, distinct_partners, relationships, relationships_by_kind FROM ecs_social_stats('vis_p');
SELECT count(*) AS overview_rows, count(*) FILTER (WHERE agent_id LIKE 'hid\_%') AS hidden_rows FROM ecs.agent_overview;
-- breeding judges eligibility on the pedigree the reader sees: kid and gp_b
-- are related only through hid_p, so for the reader they are unrelated
SELECT r.relatedness, r.eligible, r.reason FROM ecs_compatibility_explain('kid', 'gp_b') r;
SELECT ecs_breed('kid', 'gp_b', 'rls_child', 1);
SELECT agent_id, depth FROM ecs_lineage('rls_child', 2, 'ancestors') ORDER BY depth, agent_id;
-- visible agents work as usual
SELECT agent1_id, agent2_id, kind, strength FROM ecs_relate('vis_c', 'kid', 'friend', 0.75);
SELECT ecs_interact('kid', 'vis_c', 'meet', 0.5) IS NOT NULL AS logged;
-- the security_invoker view hides them too
SELECT DISTINCT agent_id FROM ecs.agent_traits ORDER BY agent_id;
RESET ROLE;

-- the owner sees what the reader could not: the child is inbred
SELECT ecs_inbreeding('rls_child') AS f_rls_child, ecs_relatedness('kid', 'gp_b') AS r_kid_gp_b;

-- a stricter policy also hides vis_p: kid is left alone
CREATE ROLE regress_ecs_strict;
GRANT USAGE ON SCHEMA ecs TO regress_ecs_strict;
GRANT SELECT ON ALL TABLES IN SCHEMA ecs TO regress_ecs_strict;
CREATE POLICY regress_ecs_hide_more ON ecs.agents FOR SELECT TO regress_ecs_strict
    USING (agent_id::text NOT LIKE 'hid\_%' AND agent_id::text <> 'vis_p');
SET ROLE regress_ecs_strict;
SELECT agent_id, depth, relation FROM ecs_lineage('kid', 5, 'both') ORDER BY depth, agent_id;
SELECT * FROM ecs_lineage('vis_p');
\echo sqlstate: :SQLSTATE
RESET ROLE;

ROLLBACK;

SELECT setval('ecs.agent_number_seq', :seq_last, :'seq_called'::bool) IS NOT NULL AS seq_restored;
-- nothing stays: no role, no policy, RLS off, no rows
SELECT count(*) AS roles_left FROM pg_roles WHERE rolname LIKE 'regress\_ecs\_%';
SELECT count(*) AS policies_left FROM pg_policies WHERE schemaname = 'ecs';
SELECT relname, relrowsecurity FROM pg_class WHERE oid = 'ecs.agents'::regclass;
SELECT count(*) AS agents_left FROM ecs.agents;
