--
-- genome_index: the ecs_genome index access method and the <~> operator.
-- ORDER BY genome <~> query through the index must give exactly what a
-- sort gives (same distances in the same order, every row once), with ties,
-- short and odd genomes, after inserts, updates, deletes, VACUUM and
-- REINDEX, with both bound kernels; ecs_find_mates must answer the same
-- with and without the index on ecs.agents.
--
\set SHOW_CONTEXT never
\set ON_ERROR_ROLLBACK on
SET extra_float_digits = 0;
\i test/fixtures/pedigree.sql

-- the operator: sum w |target - genome| / sum w
SELECT ecs_genome_query(ARRAY[0.5, 0.25], ARRAY[1, 3]) AS query;
SELECT '{0.5,0.5}'::real[] <~> ecs_genome_query(ARRAY[0.5, 0.25], ARRAY[1, 3]) AS d;
SELECT '{1,0}'::real[] <~> '{0,1,2,2}'::float8[] AS farthest, '{0,1}'::real[] <~> '{0,1,2,2}'::float8[] AS same;
-- a genome of another length, or not a plain real[], has no distance
SELECT '{0.5}'::real[] <~> '{0.5,0.25,1,3}'::float8[] IS NULL AS shorter,
       '{0.5,NULL}'::real[] <~> '{0.5,0.25,1,3}'::float8[] IS NULL AS with_null,
       '{{0.5,0.5}}'::real[] <~> '{0.5,0.25,1,3}'::float8[] IS NULL AS two_dims;
-- 1 - distance is the trait score, bit for bit
SELECT count(*) AS agents,
       count(*) FILTER (WHERE 1 - (a.genome <~> ecs_mate_query('px9_0'))
                              = (ecs_compatibility_explain('px9_0', a.agent_id)).trait_score) AS same
  FROM ecs.agents a WHERE a.agent_id <> 'px9_0';
-- bad queries: 22023
SELECT '{0.5}'::real[] <~> '{0.5,1,2}'::float8[];
\echo sqlstate: :SQLSTATE
SELECT '{0.5}'::real[] <~> '{0.5,-1}'::float8[];
\echo sqlstate: :SQLSTATE
SELECT '{0.5}'::real[] <~> '{0.5,0}'::float8[];
\echo sqlstate: :SQLSTATE
SELECT '{0.5}'::real[] <~> '{NaN,1}'::float8[];
\echo sqlstate: :SQLSTATE
SELECT '{0.5}'::real[] <~> '{0.5,Infinity}'::float8[];
\echo sqlstate: :SQLSTATE
SELECT '{0.5}'::real[] <~> '{0.5,NULL}'::float8[];
\echo sqlstate: :SQLSTATE
SELECT '{0.5}'::real[] <~> '{{0.5,1}}'::float8[];
\echo sqlstate: :SQLSTATE
SELECT ecs_genome_query(ARRAY[0.5], ARRAY[1, 2]);
\echo sqlstate: :SQLSTATE
SELECT ecs_mate_query('no such agent');
\echo sqlstate: :SQLSTATE
SELECT ecs_mate_query('nobody');
\echo sqlstate: :SQLSTATE

-- a table of its own: 16-value genomes on a coarse grid (many exact ties
-- and duplicates), plus rows the index cannot code: NULL, short, 2-D, out
-- of [0,1], NaN
CREATE TABLE gi_rows (id int PRIMARY KEY, genome real[]);
INSERT INTO gi_rows
SELECT i, ARRAY(SELECT (floor(ecs_random(i, t) * 5) / 4)::real FROM generate_series(1, 16) t)
  FROM generate_series(1, 3000) i;
INSERT INTO gi_rows VALUES
    (9001, NULL), (9002, '{0.5,0.5}'), (9003, '{{0.5,0.5}}'),
    (9004, array_fill(1.5::real, ARRAY[16])), (9005, array_fill('NaN'::real, ARRAY[16])),
    (9006, array_fill(0.5::real, ARRAY[20])), (9007, '{0.1,NULL,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1,0,0,0,0,0,0}');
CREATE INDEX gi_rows_idx ON gi_rows USING ecs_genome (genome);
SELECT ecs_genome_index_check('gi_rows_idx') AS live_entries,
       ecs_genome_index_check('gi_rows_idx', heapallindexed => true) AS every_row_indexed;

-- queries: 12 random points, weights like the catalog's, one with zero weights
CREATE TABLE gi_queries AS
SELECT q, ecs_genome_query(ARRAY(SELECT ecs_random(1000 + q, t) FROM generate_series(1, 16) t),
                           ARRAY(SELECT CASE WHEN q = 12 AND t > 8 THEN 0 ELSE 0.5 + ecs_random(2000 + q, t) END
                                   FROM generate_series(1, 16) t)) AS query
  FROM generate_series(1, 12) q;

-- index order vs sort order: distances of the first k rows, and the rows
-- of a full ordered scan (every row exactly once, through several passes)
-- (filter: a WHERE clause of the test's own, spliced as text)
CREATE FUNCTION pg_temp.ordered(tab text, q float8[], k int, filter text DEFAULT 'true') RETURNS float8[]
LANGUAGE plpgsql AS $$
DECLARE
    d float8[];
BEGIN
    EXECUTE format('SELECT array_agg(d ORDER BY n) FROM (
                        SELECT genome <~> $1 AS d, row_number() OVER () AS n
                          FROM (SELECT genome FROM %I WHERE %s ORDER BY genome <~> $1 LIMIT $2) s) t',
                   tab, filter)
       INTO d USING q, k;
    RETURN d;
END
$$;
CREATE FUNCTION pg_temp.all_ids(tab text, q float8[], filter text DEFAULT 'true') RETURNS int[]
LANGUAGE plpgsql AS $$
DECLARE
    ids int[];
BEGIN
    EXECUTE format('SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM %I WHERE %s ORDER BY genome <~> $1) s',
                   tab, filter)
       INTO ids USING q;
    RETURN ids;
END
$$;
CREATE TEMP TABLE cmp (k int, q int, via text, d float8[], ids int[]);
-- per k: queries of qtab whose first k distances in tab (rows passing
-- filter) agree (k = 0, with whole_scan: the full scan returned every such
-- row exactly once)
CREATE FUNCTION pg_temp.compare(tab text DEFAULT 'gi_rows', qtab text DEFAULT 'gi_queries',
                                ks int[] DEFAULT '{1,5,100,2000}', whole_scan bool DEFAULT true,
                                filter text DEFAULT 'true')
RETURNS TABLE (k int, queries bigint, agree bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n int;
    every_id int[];
BEGIN
    TRUNCATE cmp;
    FOR r IN EXECUTE format('SELECT q, query FROM %I', qtab) LOOP
        FOREACH n IN ARRAY ks LOOP
            SET LOCAL enable_seqscan = off;
            INSERT INTO cmp VALUES (n, r.q, 'index', pg_temp.ordered(tab, r.query, n, filter));
            SET LOCAL enable_seqscan = on;
            SET LOCAL enable_indexscan = off;
            INSERT INTO cmp VALUES (n, r.q, 'sort', pg_temp.ordered(tab, r.query, n, filter));
            RESET enable_indexscan;
        END LOOP;
        IF whole_scan THEN
            SET LOCAL enable_seqscan = off;
            INSERT INTO cmp VALUES (0, r.q, 'index', NULL, pg_temp.all_ids(tab, r.query, filter));
            RESET enable_seqscan;
        END IF;
    END LOOP;
    EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %I WHERE %s', tab, filter) INTO every_id;
    RETURN QUERY
    SELECT i.k, count(*),
           count(*) FILTER (WHERE CASE WHEN i.k = 0 THEN i.ids = every_id ELSE i.d = s.d END)
      FROM cmp i LEFT JOIN cmp s ON s.k = i.k AND s.q = i.q AND s.via = 'sort'
     WHERE i.via = 'index'
     GROUP BY i.k ORDER BY i.k;
END
$$;

-- the plans
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM gi_rows ORDER BY genome <~> '{0.5,1}'::float8[] LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM gi_rows ORDER BY genome <~> '{0.5,1}'::float8[];
RESET enable_seqscan;
-- an index is no use without ORDER BY <~>
EXPLAIN (COSTS OFF) SELECT id FROM gi_rows WHERE genome IS NOT NULL;

-- with the backend copy of the index (the default; from the second scan of
-- an unchanged index on), without it, and with the scalar kernel
SELECT * FROM pg_temp.compare();
SET ecs_agents.genome_index_cache = off;
SELECT * FROM pg_temp.compare();
RESET ecs_agents.genome_index_cache;
SET ecs_agents.genome_index_simd = off;
SELECT * FROM pg_temp.compare();
RESET ecs_agents.genome_index_simd;

-- a NULL query: every row, distance NULL
SET enable_seqscan = off;
SELECT count(*) AS rows, count(*) FILTER (WHERE d IS NULL) AS null_distances
  FROM (SELECT genome <~> NULL::float8[] AS d FROM gi_rows ORDER BY genome <~> NULL::float8[]) s;
RESET enable_seqscan;

-- updates, deletes, inserts, then VACUUM: freed slots are reused
UPDATE gi_rows SET genome = ARRAY(SELECT (floor(ecs_random(id + 7, t) * 5) / 4)::real FROM generate_series(1, 16) t)
 WHERE id % 6 = 0;
DELETE FROM gi_rows WHERE id % 5 = 0;
SELECT * FROM pg_temp.compare();
SELECT ecs_genome_index_check('gi_rows_idx', true) > (SELECT count(*) FROM gi_rows) AS dead_entries_until_vacuum;
VACUUM gi_rows;
SELECT ecs_genome_index_check('gi_rows_idx', true) = (SELECT count(*) FROM gi_rows) AS vacuumed_counts_match;
SELECT pg_relation_size('gi_rows_idx') AS size_before_refill \gset
INSERT INTO gi_rows
SELECT i, ARRAY(SELECT (floor(ecs_random(i, t) * 5) / 4)::real FROM generate_series(1, 16) t)
  FROM generate_series(3001, 3500) i;
SELECT pg_relation_size('gi_rows_idx') = :size_before_refill AS refilled_in_place;
SELECT ecs_genome_index_check('gi_rows_idx', true) = (SELECT count(*) FROM gi_rows) AS refilled_counts_match;
SELECT * FROM pg_temp.compare();
REINDEX INDEX gi_rows_idx;
SELECT ecs_genome_index_check('gi_rows_idx', true) = (SELECT count(*) FROM gi_rows) AS reindexed_counts_match;
SELECT * FROM pg_temp.compare();

-- a second key column (text): entries grouped as 'female', 'male' and
-- other (NULL, other values), so that "s <!> 'female'" (true when either
-- side is NULL or they differ) skips the 'female' group; the executor
-- rechecks the key.  The same rows as gi_rows, sexes by id.
SELECT 'a' <!> 'b' AS differ, 'a' <!> 'a' AS same, NULL <!> 'a' AS left_null,
       'a' <!> NULL AS right_null, NULL::text <!> NULL AS both_null;
CREATE TABLE gi_sexed (id int PRIMARY KEY, genome real[], s text);
INSERT INTO gi_sexed
SELECT id, genome, CASE WHEN id % 11 = 0 THEN NULL WHEN id % 13 = 0 THEN 'other'
                        WHEN id % 17 = 0 THEN 'Female' WHEN id % 2 = 0 THEN 'female' ELSE 'male' END
  FROM gi_rows;
CREATE INDEX gi_sexed_idx ON gi_sexed USING ecs_genome (genome, s);
SELECT ecs_genome_index_check('gi_sexed_idx') = (SELECT count(*) FROM gi_sexed) AS live_entries_match,
       ecs_genome_index_check('gi_sexed_idx', heapallindexed => true) AS every_row_indexed;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM gi_sexed WHERE s <!> 'female' ORDER BY genome <~> '{0.5,1}'::float8[] LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM gi_sexed WHERE 'male' <!> s ORDER BY genome <~> '{0.5,1}'::float8[] LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM gi_sexed ORDER BY genome <~> '{0.5,1}'::float8[] LIMIT 5;
-- the group is skipped, not filtered: a whole ordered scan returns no
-- 'female' row for the executor's recheck to remove (a line "Rows Removed
-- by Index Recheck" would say so); under 's <!> ''other''' the mixed group
-- is read and its 'other' rows removed by the recheck
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM gi_sexed WHERE s <!> 'female' ORDER BY genome <~> (SELECT query FROM gi_queries WHERE q = 1);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM gi_sexed WHERE s <!> 'other' ORDER BY genome <~> (SELECT query FROM gi_queries WHERE q = 1);
SELECT count(*) FILTER (WHERE s = 'female') AS female, count(*) FILTER (WHERE s = 'other') AS other,
       count(*) FILTER (WHERE s IS DISTINCT FROM 'female') AS not_female
  FROM gi_sexed;
RESET enable_seqscan;
-- index order vs sort order under each filter, with the backend copy and
-- through the buffers; every row the filter passes, exactly once
SELECT f.filter, c.* FROM unnest(ARRAY['s <!> ''female''', 's <!> ''male''', '''male'' <!> s',
                                       's <!> ''other''', 's <!> NULL', 's <!> ''female'' AND s <!> ''male''',
                                       'true']) f(filter),
       LATERAL pg_temp.compare('gi_sexed', 'gi_queries', '{1,5,100}', true, f.filter) c;
SET ecs_agents.genome_index_cache = off;
SELECT f.filter, c.* FROM unnest(ARRAY['s <!> ''female''', 's <!> ''male''', 's <!> NULL']) f(filter),
       LATERAL pg_temp.compare('gi_sexed', 'gi_queries', '{1,5,100}', true, f.filter) c;
RESET ecs_agents.genome_index_cache;
-- rows change group (an update of s is a new entry), leave, come back
UPDATE gi_sexed SET s = CASE s WHEN 'female' THEN 'male' WHEN 'male' THEN NULL ELSE 'female' END WHERE id % 3 = 0;
DELETE FROM gi_sexed WHERE id % 7 = 0;
VACUUM gi_sexed;
INSERT INTO gi_sexed SELECT id + 10000, genome, 'female' FROM gi_rows WHERE id % 5 = 1;
SELECT ecs_genome_index_check('gi_sexed_idx', heapallindexed => true) = (SELECT count(*) FROM gi_sexed) AS counts_match;
SELECT f.filter, c.* FROM unnest(ARRAY['s <!> ''female''', 's <!> ''male''', 's <!> NULL']) f(filter),
       LATERAL pg_temp.compare('gi_sexed', 'gi_queries', '{1,5,100}', true, f.filter) c;
-- other shapes are refused: 0A000
CREATE INDEX ON gi_sexed USING ecs_genome (genome, genome);
\echo sqlstate: :SQLSTATE
CREATE INDEX ON gi_sexed USING ecs_genome (s, genome);
\echo sqlstate: :SQLSTATE
CREATE INDEX ON gi_sexed USING ecs_genome (genome, s, s);
\echo sqlstate: :SQLSTATE
CREATE TABLE gi_empty (genome real[], s text, t text);
CREATE INDEX ON gi_empty USING ecs_genome (genome, s, t);
\echo sqlstate: :SQLSTATE
-- a varchar column (the same datum as text) is taken
CREATE TABLE gi_varchar (id int, genome real[], v varchar(10));
INSERT INTO gi_varchar VALUES (1, '{0.1,0.1}', 'female'), (2, '{0.2,0.2}', 'male'), (3, '{0.9,0.9}', NULL);
CREATE INDEX gi_varchar_idx ON gi_varchar USING ecs_genome (genome, v);
SET enable_seqscan = off;
SELECT string_agg(id::text, ',') AS not_female
  FROM (SELECT id FROM gi_varchar WHERE v <!> 'female' ORDER BY genome <~> '{0,0,1,1}'::float8[]) s;
RESET enable_seqscan;
DROP TABLE gi_sexed, gi_empty, gi_varchar;

-- the kernels themselves on random codes: the fast scan and the AVX2
-- kernel return the entries and bounds the scalar kernel does, at every cut
SELECT ecs_genome_kernel_check(1, 997) AS disagreements_997,
       ecs_genome_kernel_check(2, 8000) AS disagreements_8000;
SELECT ecs_genome_kernel_check(1, 1) AS one_entry, ecs_genome_kernel_check(-5, 33) AS negative_seed;
SELECT ecs_genome_kernel_check(1, 0);
\echo sqlstate: :SQLSTATE
SELECT ecs_genome_kernel_check(1, 65537);
\echo sqlstate: :SQLSTATE
SELECT ecs_genome_kernel_check(NULL, 5) IS NULL AS strict;

-- the fast scan: the backend copy also holds 4-bit codes, which a pass
-- reads from its 32,769th entry on (genome_index_scan.c); 40,000 rows of
-- continuous values plus 300 duplicates (exact ties), queries with
-- targets inside, at and past the edges, zero weights and one dominant
-- weight; index order against sort order with the copy (fast scan), then
-- with the scalar kernel.  k = 300 takes three passes.
SELECT setseed(0.25);
CREATE TABLE gi_big (id int PRIMARY KEY, genome real[]);
INSERT INTO gi_big
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 16) t WHERE i > 0)
  FROM generate_series(1, 40000) i;
INSERT INTO gi_big SELECT 100000 + id, genome FROM gi_big WHERE id % 133 = 0;
CREATE INDEX gi_big_idx ON gi_big USING ecs_genome (genome);
CREATE TEMP TABLE gi_big_queries AS
SELECT q, ecs_genome_query(
           ARRAY(SELECT CASE WHEN q = 7 THEN -0.5 WHEN q = 8 THEN (t % 2)::float8
                             WHEN q = 9 THEN g[t] ELSE ecs_random(3000 + q, t) END
                   FROM generate_series(1, 16) t),
           ARRAY(SELECT CASE WHEN q = 10 AND t % 3 = 0 THEN 0 WHEN q = 11 AND t = 4 THEN 1000
                             ELSE 0.5 + ecs_random(4000 + q, t) END
                   FROM generate_series(1, 16) t)) AS query
  FROM generate_series(1, 11) q, (SELECT genome AS g FROM gi_big WHERE id = 133) dup;
SELECT * FROM pg_temp.compare('gi_big', 'gi_big_queries', '{1,5,64,300}', false);
SET ecs_agents.genome_index_simd = off;
SELECT * FROM pg_temp.compare('gi_big', 'gi_big_queries', '{1,5,64,300}', false);
RESET ecs_agents.genome_index_simd;
DROP TABLE gi_big;

-- a rolled-back insert leaves an entry whose row no snapshot sees
BEGIN;
INSERT INTO gi_rows VALUES (99999, array_fill(0.5::real, ARRAY[16]));
ROLLBACK;
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE id = 99999) AS rolled_back_row
  FROM (SELECT id FROM gi_rows ORDER BY genome <~> ecs_genome_query(array_fill(0.5::float8, ARRAY[16]),
                                                                     array_fill(1::float8, ARRAY[16])) LIMIT 3) s;
RESET enable_seqscan;

-- a row the index never saw (inserts skip an index that is not ready, set
-- by hand here): the structure is fine, the heap cross-check finds the hole
CREATE TABLE gi_hole (id int, genome real[]);
INSERT INTO gi_hole VALUES (1, '{0.5,0.5}'), (2, '{0.1,0.9}');
CREATE INDEX gi_hole_idx ON gi_hole USING ecs_genome (genome);
UPDATE pg_index SET indisready = false WHERE indexrelid = 'gi_hole_idx'::regclass;
INSERT INTO gi_hole VALUES (3, '{0.2,0.2}');
UPDATE pg_index SET indisready = true WHERE indexrelid = 'gi_hole_idx'::regclass;
SELECT ecs_genome_index_check('gi_hole_idx') AS live_entries;
SELECT ecs_genome_index_check('gi_hole_idx', heapallindexed => true);
\echo sqlstate: :SQLSTATE
REINDEX INDEX gi_hole_idx;
SELECT ecs_genome_index_check('gi_hole_idx', heapallindexed => true) AS after_reindex;
DROP TABLE gi_hole;

-- the check refuses other relations
SELECT ecs_genome_index_check('gi_rows_pkey');
\echo sqlstate: :SQLSTATE
SELECT ecs_genome_index_check('gi_rows');
\echo sqlstate: :SQLSTATE
DROP TABLE gi_rows, gi_queries;

-- ecs_find_mates with the index and without it: same answers, on the
-- pedigree fixture (related candidates, ties in trait score)
SELECT ecs_genome_index_check('ecs.agents_genome_idx') >= (SELECT count(*) FROM ecs.agents) AS agents_indexed,
       ecs_genome_index_check('ecs.agents_genome_idx', heapallindexed => true) > 0 AS every_agent_indexed;
-- (sequential scans off, so that the planner takes the index even for this
-- small table; the first calls of the session plan the candidate query)
BEGIN;
SET LOCAL enable_seqscan = off;
CREATE TEMP TABLE with_index AS
SELECT a.agent_id AS a, m.* FROM ecs.agents a, LATERAL ecs_find_mates(a.agent_id, 7) m;
CREATE TEMP TABLE batch_with_index AS
SELECT * FROM ecs_find_mates_batch(ARRAY(SELECT agent_id::text FROM ecs.agents), 7);
SELECT pg_stat_get_xact_numscans('ecs.agents_genome_idx'::regclass) >= 240 AS index_scanned_per_search;
COMMIT;
-- without the index (dropped in a transaction that is rolled back)
BEGIN;
DROP INDEX ecs.agents_genome_idx;
CREATE TEMP TABLE without_index AS
SELECT a.agent_id AS a, m.* FROM ecs.agents a, LATERAL ecs_find_mates(a.agent_id, 7) m;
CREATE TEMP TABLE batch_without_index AS
SELECT * FROM ecs_find_mates_batch(ARRAY(SELECT agent_id::text FROM ecs.agents), 7);
SELECT (SELECT count(*) FROM with_index) AS rows_with,
       (SELECT count(*) FROM without_index) AS rows_without,
       (SELECT count(*) FROM ((TABLE with_index EXCEPT TABLE without_index)
                              UNION ALL (TABLE without_index EXCEPT TABLE with_index)) d) AS differences,
       (SELECT count(*) FROM ((TABLE batch_with_index EXCEPT TABLE batch_without_index)
                              UNION ALL (TABLE batch_without_index EXCEPT TABLE batch_with_index)) d) AS batch_differences;
-- with an index on (genome) alone, as before 1.1's second column: the sex
-- filter is then the executor's, the answers the same (sorting disabled:
-- for 240 agents the planner may prefer a sort to a new index without
-- statistics)
CREATE INDEX agents_genome_only_idx ON ecs.agents USING ecs_genome (genome);
SET LOCAL enable_sort = off;
CREATE TEMP TABLE one_column_index AS
SELECT a.agent_id AS a, m.* FROM ecs.agents a, LATERAL ecs_find_mates(a.agent_id, 7) m;
SELECT pg_stat_get_xact_numscans('ecs.agents_genome_only_idx'::regclass) >= 240 AS one_column_index_scanned,
       (SELECT count(*) FROM ((TABLE with_index EXCEPT TABLE one_column_index)
                              UNION ALL (TABLE one_column_index EXCEPT TABLE with_index)) d) AS one_column_differences;
ROLLBACK;
SELECT count(*) AS index_back FROM pg_indexes WHERE indexname = 'agents_genome_idx';
DROP TABLE with_index, batch_with_index;

-- when no candidate is eligible, ecs_find_mates reads rounds of 13, 52,
-- 208, 832 and 3328 candidates, then the whole order through a cursor in
-- chunks of 4096: 9,000 founders (about 4,500 of the other sex, more than
-- the last round's 3,328) with max_relatedness 0 (nobody eligible)
BEGIN;
SELECT count(*) AS spawned FROM ecs_spawn(9000, 99, NULL, 'cur');
SELECT min(agent_id) AS cur_id FROM ecs.agents WHERE agent_id LIKE 'cur%' \gset
SELECT count(*) FILTER (WHERE a.sex <> s.sex) > 3328 AS candidates_past_the_rounds
  FROM ecs.agents a, ecs.agents s WHERE s.agent_id = :'cur_id' AND a.active;
SET LOCAL ecs_agents.max_relatedness = 0;
SELECT count(*) AS mates_when_nobody_is_eligible FROM ecs_find_mates(:'cur_id', 5);
RESET ecs_agents.max_relatedness;
SELECT count(*) AS mates_otherwise FROM ecs_find_mates(:'cur_id', 5);
-- the batch bounds this population's later chunks with the fast scan, and
-- scans for each agent only the rows of the other sex and of none (its
-- packed population is ordered by sex): the same mates as one call per
-- agent, for 30 of the founders and 10 of those whose sex is then unset
UPDATE ecs.agents SET sex = NULL WHERE agent_id LIKE 'cur%' AND substr(agent_id, 4)::int % 17 = 0;
CREATE TEMP TABLE cur_some AS
(SELECT agent_id::text AS a FROM ecs.agents WHERE agent_id LIKE 'cur%' ORDER BY agent_id LIMIT 30)
UNION
(SELECT agent_id::text FROM ecs.agents WHERE agent_id LIKE 'cur%' AND sex IS NULL ORDER BY agent_id LIMIT 10);
SELECT count(*) FILTER (WHERE s.sex = 'female') >= 5 AS female_searchers,
       count(*) FILTER (WHERE s.sex = 'male') >= 5 AS male_searchers,
       count(*) FILTER (WHERE s.sex IS NULL) = 10 AS searchers_without_sex
  FROM cur_some c JOIN ecs.agents s ON s.agent_id = c.a;
SELECT pg_stat_get_xact_numscans('ecs.agents_genome_idx'::regclass) AS scans_before \gset
CREATE TEMP TABLE cur_batch AS
SELECT agent_id::text AS a, mate_id::text AS m, score, rank
  FROM ecs_find_mates_batch(ARRAY(SELECT a FROM cur_some), 5);
SELECT pg_stat_get_xact_numscans('ecs.agents_genome_idx'::regclass) = :scans_before AS batch_read_the_population;
CREATE TEMP TABLE cur_single AS
SELECT c.a, f.mate_id::text AS m, f.score, f.rank FROM cur_some c, LATERAL ecs_find_mates(c.a, 5) f;
SELECT (SELECT count(*) FROM cur_batch) = 5 * (SELECT count(*) FROM cur_some) AS five_each,
       (SELECT count(*) > 0 FROM cur_batch b JOIN ecs.agents m ON m.agent_id = b.m WHERE m.sex IS NULL) AS mates_without_sex,
       (SELECT count(*) FROM ((TABLE cur_batch EXCEPT TABLE cur_single)
                              UNION ALL (TABLE cur_single EXCEPT TABLE cur_batch)) d) AS differences;
-- a batch of few agents next to the table (agents * 2000 < the table's row
-- estimate: 4 of 9,240 once analyzed) runs one indexed search per agent,
-- as ecs_find_mates does, instead of reading the population: the same
-- rows, and index scans (none for the batch of 40 above, which read the
-- population); an unknown agent is still reported before any search
ANALYZE ecs.agents;
CREATE TEMP TABLE cur_few AS SELECT a FROM cur_some ORDER BY a LIMIT 4;
SELECT pg_stat_get_xact_numscans('ecs.agents_genome_idx'::regclass) AS scans_before \gset
CREATE TEMP TABLE cur_few_batch AS
SELECT agent_id::text AS a, mate_id::text AS m, score, rank
  FROM ecs_find_mates_batch(ARRAY(SELECT a FROM cur_few ORDER BY a), 5);
SELECT pg_stat_get_xact_numscans('ecs.agents_genome_idx'::regclass) - :scans_before >= 4 AS indexed_per_agent,
       (SELECT count(*) FROM cur_few_batch) AS few_rows,
       (SELECT count(*) FROM ((TABLE cur_few_batch EXCEPT SELECT * FROM cur_single WHERE a IN (SELECT a FROM cur_few))
                              UNION ALL ((SELECT * FROM cur_single WHERE a IN (SELECT a FROM cur_few)) EXCEPT TABLE cur_few_batch)) d) AS few_differences;
SELECT count(*) FROM ecs_find_mates_batch(ARRAY[(SELECT min(a) FROM cur_few), 'nobody_here'], 5);
\echo sqlstate: :SQLSTATE
ROLLBACK;
-- the rows of the rolled-back founders leave the table's estimate (ANALYZE
-- writes it in place): back to the fixture's
ANALYZE ecs.agents;

-- a genome outside [0,1] (written with triggers off) has no codes: the
-- index and the batch score it exactly, always; here it is px9_0's best mate
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO ecs.agents (agent_id, generation, active, genome)
SELECT 'pxodd', 0, true,
       ARRAY(SELECT CASE WHEN t = 1 THEN 1.0001 ELSE q[t] END::real FROM generate_series(1, 16) t)
  FROM ecs_mate_query('px9_0') q;
SET LOCAL enable_seqscan = off;
SELECT mate_id, rank FROM ecs_find_mates('px9_0', 2) ORDER BY rank;
SELECT mate_id, rank FROM ecs_find_mates_batch(ARRAY['px9_0'], 2) ORDER BY rank;
ROLLBACK;
DELETE FROM ecs.agents WHERE agent_id LIKE 'px%';
