--
-- search_path: CVE-2018-1058 class.  A schema placed before pg_catalog on
-- the search_path holds operators, functions and aggregates with the names
-- the extension uses (=, <>, ~, ||, count, upper, nextval, now, random, the
-- extension's own helpers, ...).  Each of them raises "captured: <name>" when
-- called.  Every writer and reader is then called with that search_path: any
-- unqualified reference that resolves to the hostile object shows up as an
-- error in this file.  Everything is dropped at the end.
--
\set SHOW_CONTEXT never
SET extra_float_digits = 0;
SELECT last_value AS seq_last, is_called AS seq_called FROM ecs.agent_number_seq \gset
SELECT last_value AS iseq_last, is_called AS iseq_called FROM ecs.agent_interactions_interaction_id_seq \gset
SELECT n.nspname AS extschema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'ecs_agents' \gset

CREATE SCHEMA regress_hostile;

-- binary operators, for every argument type pair the extension's code could
-- meet (text, the agent_id domain's base type, numbers, timestamps, arrays)
DO $do$
DECLARE
    op text;
    l text;
    r text;
    n int := 0;
BEGIN
    FOREACH op IN ARRAY ARRAY['=', '<>', '<', '<=', '>', '>=', '~', '!~', '~~', '||', '+', '-', '*', '/'] LOOP
        FOREACH l IN ARRAY ARRAY['text', 'integer', 'bigint', 'double precision', 'real', 'boolean',
                                 'timestamp with time zone', 'text[]', 'real[]', 'numeric'] LOOP
            FOREACH r IN ARRAY ARRAY['text', 'integer', 'bigint', 'double precision', 'real', 'boolean',
                                     'timestamp with time zone', 'text[]', 'real[]', 'numeric'] LOOP
                n := n + 1;
                EXECUTE format($f$CREATE FUNCTION regress_hostile.op_%s(%s, %s) RETURNS boolean
                                  LANGUAGE plpgsql AS $b$BEGIN RAISE EXCEPTION 'captured: operator %s(%s, %s)'; END$b$$f$,
                               n, l, r, op, l, r);
                BEGIN
                    EXECUTE format('CREATE OPERATOR regress_hostile.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = regress_hostile.op_%s)',
                                   op, l, r, n);
                EXCEPTION WHEN OTHERS THEN
                    RAISE EXCEPTION 'could not create operator %(%, %): %', op, l, r, SQLERRM;
                END;
            END LOOP;
        END LOOP;
    END LOOP;
END
$do$;
-- prefix operators
CREATE FUNCTION regress_hostile.neg_int(integer) RETURNS integer
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'captured: operator -(integer)'; END$$;
CREATE OPERATOR regress_hostile.- (RIGHTARG = integer, FUNCTION = regress_hostile.neg_int);
CREATE FUNCTION regress_hostile.neg_float(double precision) RETURNS double precision
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'captured: operator -(double precision)'; END$$;
CREATE OPERATOR regress_hostile.- (RIGHTARG = double precision, FUNCTION = regress_hostile.neg_float);

-- functions with the names of built-ins the extension calls
DO $do$
DECLARE
    sig text;
BEGIN
    FOREACH sig IN ARRAY ARRAY[
        'upper(text)', 'lower(text)', 'left(text, integer)', 'substr(text, integer)',
        'substr(text, integer, integer)', 'length(text)', 'btrim(text)', 'concat(text, text)',
        'nextval(regclass)', 'nextval(text)', 'currval(regclass)', 'setval(regclass, bigint)',
        'now()', 'random()', 'clock_timestamp()', 'floor(double precision)', 'round(double precision)',
        'abs(double precision)', 'sqrt(double precision)', 'exp(double precision)', 'ln(double precision)',
        'greatest(double precision, double precision)', 'cardinality(anyarray)',
        'array_length(anyarray, integer)', 'array_upper(anyarray, integer)', 'array_lower(anyarray, integer)',
        'array_fill(anyelement, integer[])', 'array_append(anyarray, anyelement)',
        'array_cat(anyarray, anyarray)', 'unnest(anyarray)', 'generate_series(integer, integer)',
        'generate_series(bigint, bigint)', 'text(anyelement)', 'int4(double precision)', 'int8(double precision)',
        'float8(real)', 'float4(double precision)', 'point(double precision, double precision)',
        'string_to_array(text, text)', 'regexp_replace(text, text, text)', 'quote_literal(text)',
        'quote_ident(text)', 'to_char(double precision, text)', 'pg_has_role(name, text)',
        'has_table_privilege(text, text)', 'current_setting(text)', 'set_config(text, text, boolean)',
        'ecs_check_agent(text, text)', 'ecs_check_agent(text)', 'ecs_check_spirit(text)',
        'ecs_check_kind(text)', 'ecs_check_unit(double precision, text)', 'ecs_validate_agent_id(text)',
        'ecs_random(bigint, bigint)', 'ecs_random_gaussian(bigint, bigint)',
        'ecs_pick_component(text, text, double precision)', 'ecs_generate_name(text, bigint)',
        'ecs_generate_name(text)', 'ecs_lineage(text, integer, text)', 'ecs_lineage(text)',
        'ecs_kinship(text, text)', 'ecs_relatedness(text, text)', 'ecs_inbreeding(text)',
        'ecs_compatibility(text, text)', 'ecs_genome_score(real[], double precision[], double precision[])',
        'ecs_find_mates(text, integer)', 'ecs_walk(text)', 'greatest(double precision, double precision, double precision)',
        'least(double precision, double precision)', 'power(double precision, double precision)',
        'array_position(anyarray, anyelement)', 'sort(anyarray)', 'jsonb_object_agg(text, bigint)',
        'jsonb_build_object(text, bigint)', 'to_jsonb(anyelement)', 'hypot(double precision, double precision)',
        'box(point, point)', 'circle(point, double precision)', 'ecs_social_stats(text)',
        'ecs_agent_position(text)', 'ecs_breed(text, text)', 'ecs_naming_spirits()'] LOOP
        EXECUTE format($f$CREATE FUNCTION regress_hostile.%s RETURNS text
                          LANGUAGE plpgsql AS $b$BEGIN RAISE EXCEPTION 'captured: function %s'; END$b$$f$,
                       sig, sig);
    END LOOP;
END
$do$;
-- aggregates
CREATE FUNCTION regress_hostile.agg_capture(bigint) RETURNS bigint
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'captured: aggregate'; END$$;
CREATE FUNCTION regress_hostile.agg_capture_any(bigint, anyelement) RETURNS bigint
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'captured: aggregate'; END$$;
CREATE FUNCTION regress_hostile.agg_capture_2(bigint, text, text) RETURNS bigint
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'captured: aggregate'; END$$;
CREATE AGGREGATE regress_hostile.count(*) (SFUNC = regress_hostile.agg_capture, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE regress_hostile.count(anyelement) (SFUNC = regress_hostile.agg_capture_any, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE regress_hostile.sum(anyelement) (SFUNC = regress_hostile.agg_capture_any, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE regress_hostile.max(anyelement) (SFUNC = regress_hostile.agg_capture_any, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE regress_hostile.min(anyelement) (SFUNC = regress_hostile.agg_capture_any, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE regress_hostile.avg(anyelement) (SFUNC = regress_hostile.agg_capture_any, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE regress_hostile.array_agg(anyelement) (SFUNC = regress_hostile.agg_capture_any, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE regress_hostile.string_agg(text, text) (SFUNC = regress_hostile.agg_capture_2, STYPE = bigint, INITCOND = '0');
-- tables and views with the extension's table names, unqualified
CREATE TABLE regress_hostile.agents (agent_id text, genome real[]);
CREATE TABLE regress_hostile.trait_catalog (trait_name text, position int);
CREATE TABLE regress_hostile.naming_spirits (spirit_id text, enabled bool);
CREATE TABLE regress_hostile.naming_components (spirit_id text, component_type text, value text);
CREATE TABLE regress_hostile.agent_relationships (agent1_id text, agent2_id text, kind text);
CREATE TABLE regress_hostile.agent_interactions (agent1_id text, agent2_id text, kind text);
CREATE TABLE regress_hostile.agent_positions (agent_id text, x float8, y float8);
CREATE SEQUENCE regress_hostile.agent_number_seq;

SELECT count(*) AS hostile_operators FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
 WHERE n.nspname = 'regress_hostile';
SELECT count(*) > 60 AS hostile_functions FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'regress_hostile';

-- the trap works: an unqualified query in this session is captured
BEGIN;
SET LOCAL search_path = regress_hostile, pg_catalog, public;
SELECT 'abc'::text = 'abc'::text;
ROLLBACK;

---------------------------------------------------------------------------
-- the calls, with the hostile schema first (before pg_catalog); the calls
-- are qualified with the extension schema, their arguments are literals
---------------------------------------------------------------------------
\set ON_ERROR_ROLLBACK on
BEGIN;
SELECT setval('ecs.agent_number_seq', 2000, false) IS NOT NULL AS seq_set;
SELECT setval('ecs.agent_interactions_interaction_id_seq', 2000, false) IS NOT NULL AS seq_set;
SET LOCAL search_path = regress_hostile, pg_catalog, public;
SELECT * FROM :extschema.ecs_spawn(3, 99, 'wolf', 'hp');
SELECT * FROM :extschema.ecs_spawn(2, 98, NULL, 'hq');
SELECT :extschema.ecs_generate_name('bear', 5) IS NOT NULL AS named;
SELECT agent1_id, agent2_id, kind, strength FROM :extschema.ecs_relate('hp2001', 'hp2000', 'friend', 0.5);
SELECT agent1_id, agent2_id, kind, strength FROM :extschema.ecs_relate('hp2000', 'hp2001', 'friend', 0.25);
SELECT :extschema.ecs_interact('hp2000', 'hp2002', 'groom', 0.5, '2024-01-01 00:00:00+00');
SELECT :extschema.ecs_interact('hp2000', 'hp2002');
-- direct writes (the row trigger): a child, a re-parenting, a genome update
INSERT INTO ecs.agents (agent_id, parent1_id, parent2_id, generation, genome)
SELECT 'hchild', 'hp2000', 'hp2001', 1, genome FROM ecs.agents WHERE agent_id OPERATOR(pg_catalog.=) 'hp2002';
INSERT INTO ecs.agents (agent_id, parent1_id, generation, genome)
SELECT 'hgrandchild', 'hchild', 2, genome FROM ecs.agents WHERE agent_id OPERATOR(pg_catalog.=) 'hp2002';
UPDATE ecs.agents SET parent2_id = 'hp2002' WHERE agent_id OPERATOR(pg_catalog.=) 'hgrandchild';
UPDATE ecs.agents SET genome[1] = 0.5 WHERE agent_id OPERATOR(pg_catalog.=) 'hgrandchild';
-- the cycle check still refuses a cycle
UPDATE ecs.agents SET parent1_id = 'hgrandchild' WHERE agent_id OPERATOR(pg_catalog.=) 'hp2000';
-- readers
SELECT agent_id, depth, relation, generation FROM :extschema.ecs_lineage('hgrandchild', 3, 'ancestors') ORDER BY depth, agent_id;
SELECT agent_id, depth, relation, generation FROM :extschema.ecs_lineage('hp2000', 3, 'descendants') ORDER BY depth, agent_id;
SELECT agent_id, depth, relation FROM :extschema.ecs_lineage('hchild', 2, 'both') ORDER BY depth, agent_id;
SELECT agent_id, depth FROM :extschema.ecs_lineage('hchild') ORDER BY depth, agent_id;
SELECT trait_name, value FROM ecs.agent_traits WHERE agent_id OPERATOR(pg_catalog.=) 'hchild'
 ORDER BY trait_name LIMIT 3;
SELECT :extschema.ecs_kinship('hchild', 'hgrandchild') AS phi, :extschema.ecs_relatedness('hp2000', 'hgrandchild') AS r,
       :extschema.ecs_inbreeding('hgrandchild') AS f;
SELECT pg_catalog.round(:extschema.ecs_compatibility('hp2000', 'hp2002')::numeric, 6) AS compatibility;
SELECT pg_catalog.round(trait_score::numeric, 6) AS trait_score, relatedness, eligible, reason
  FROM :extschema.ecs_compatibility_explain('hchild', 'hp2000');
SELECT agent1_id, agent2_id, pg_catalog.round(score::numeric, 6) AS score
  FROM :extschema.ecs_compatibility_batch(ARRAY['hp2000', 'hp2001'], ARRAY['hp2002', 'hq2003']);
SELECT mate_id, rank FROM :extschema.ecs_find_mates('hp2000', 10) ORDER BY rank;
INSERT INTO ecs.agent_positions (agent_id, x, y) VALUES ('hp2000', 0, 0), ('hp2002', 3, 4), ('hq2004', 30, 40);
SELECT mate_id, rank FROM :extschema.ecs_find_mates('hp2000', 10, 0, 5, true, 10) ORDER BY rank;
SELECT mate_id, rank FROM :extschema.ecs_find_mates('hp2000', 10, NULL, NULL, false, 50) ORDER BY rank;
SELECT agent_id, mate_id, rank FROM :extschema.ecs_find_mates_batch(ARRAY['hp2000', 'hq2004'], 2) ORDER BY 1, 3;
SELECT agent1_id, agent2_id FROM :extschema.ecs_pair_population(0, 10) ORDER BY 1;
SELECT pg_catalog.round(:extschema.ecs_genome_score('{0.5,0.25}', '{0.5,0.5}', '{1,3}')::numeric, 6) AS genome_score;
SELECT interactions, initiated, received, distinct_partners, relationships, relationships_by_kind
  FROM :extschema.ecs_social_stats('hp2000');
SELECT interactions FROM :extschema.ecs_social_stats('hp2000', '2025-01-01 00:00:00+00');
SELECT x, y FROM :extschema.ecs_agent_position('hp2002');
SELECT x, y FROM :extschema.ecs_agent_position('hp2001');
SELECT neighbor_id, distance FROM :extschema.ecs_agents_near('hp2000', 100, 5) ORDER BY distance;
SELECT spirit_id, name_combinations IS NOT NULL AS counted FROM :extschema.ecs_naming_spirits() ORDER BY spirit_id LIMIT 3;
SELECT count(*) AS statement_rows FROM :extschema.ecs_statement_stats();
SELECT :extschema.ecs_breed('hp2000', 'hq2004', 'hbred', 5) AS bred;
SELECT agent_id, generation, parent1_id, parent2_id FROM ecs.agent_overview WHERE agent_id OPERATOR(pg_catalog.=) 'hbred';
SELECT spirit_id FROM ecs.enabled_spirits ORDER BY spirit_id LIMIT 2;
-- the validation paths (their errors are the extension's, not captures)
SELECT :extschema.ecs_relate('hp2000', 'nobody');
SELECT :extschema.ecs_relate('hp2000', 'hp2000');
SELECT :extschema.ecs_relate('hp2000', 'x');
SELECT :extschema.ecs_interact('hp2000', 'hp2001', 'Bad kind');
SELECT :extschema.ecs_spawn(1, 1, 'phoenix');
SELECT :extschema.ecs_spawn(1, 1, 'dragon');
SELECT * FROM :extschema.ecs_lineage('nobody');
SELECT * FROM :extschema.ecs_lineage('hchild', -1);
SELECT * FROM :extschema.ecs_lineage('hchild', 1, 'sideways');
SELECT :extschema.ecs_kinship('hchild', 'nobody');
SELECT * FROM :extschema.ecs_find_mates('hchild', 0);
SELECT * FROM :extschema.ecs_compatibility_batch(ARRAY['hchild'], ARRAY['hp2000', 'hp2001']);
SELECT :extschema.ecs_breed('hp2000', 'hchild');
SELECT :extschema.ecs_breed('hp2000', 'hp2000');
SELECT * FROM :extschema.ecs_agents_near('hp2000', -1);
SELECT * FROM :extschema.ecs_social_stats('nobody');
-- ecs_add_trait last: it rewrites every genome
SELECT :extschema.ecs_add_trait('hostility', 1, 'similar', 0.05, 0.5);
SELECT :extschema.ecs_add_trait('hostility', 1);
-- what was written is right
RESET search_path;
SELECT agent_id, parent1_id, parent2_id, generation, array_length(genome, 1) AS genes, spirit_id IS NOT NULL AS has_spirit
  FROM ecs.agents ORDER BY agent_id;
SELECT agent1_id, agent2_id, kind, strength FROM ecs.agent_relationships ORDER BY 1, 2, 3;
SELECT interaction_id, agent1_id, agent2_id, kind, outcome FROM ecs.agent_interactions ORDER BY 1;
SELECT position, trait_name FROM ecs.trait_catalog WHERE position >= 15 ORDER BY position;
ROLLBACK;

-- the same calls with the hostile schema after pg_catalog (the usual
-- "pg_catalog is searched first" case) must of course pass too
BEGIN;
SELECT setval('ecs.agent_number_seq', 3000, false) IS NOT NULL AS seq_set;
SET LOCAL search_path = regress_hostile, public;
SELECT count(*) AS spawned FROM :extschema.ecs_spawn(2, 97, 'owl', 'hr');
SELECT count(*) AS walked FROM :extschema.ecs_lineage('hr3000', 2, 'both');
ROLLBACK;

-- nothing of the extension depends on the hostile schema
SELECT count(*) AS dependents FROM pg_depend d
  JOIN pg_namespace n ON d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid
 WHERE n.nspname = 'regress_hostile' AND d.deptype = 'n'
   AND d.classid = 'pg_proc'::regclass
   AND d.objid IN (SELECT objid FROM pg_depend WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ecs_agents'));

SET client_min_messages = warning;
DROP SCHEMA regress_hostile CASCADE;
RESET client_min_messages;
SELECT setval('ecs.agent_number_seq', :seq_last, :'seq_called'::bool) IS NOT NULL AS seq_restored;
SELECT setval('ecs.agent_interactions_interaction_id_seq', :iseq_last, :'iseq_called'::bool) IS NOT NULL AS seq_restored;
SELECT count(*) AS agents_left FROM ecs.agents;
SELECT count(*) AS traits_left FROM ecs.trait_catalog;
