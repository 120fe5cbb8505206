-- names: ecs_generate_name(spirit, seed) and ecs_naming_spirits()
\set SHOW_CONTEXT never
-- errors print their SQLSTATE on the line after

-- deterministic for a seed; these are the names the first (PL/pgSQL)
-- implementation gave for the same seeds, so existing seeds keep their names
SELECT ecs_generate_name('wolf', 1) AS wolf1, ecs_generate_name('wolf', 2) AS wolf2,
       ecs_generate_name('bear', 3) AS bear3;
SELECT s, ecs_generate_name('owl', s) AS name
  FROM (VALUES (0::int8), (-1), (42), (9223372036854775807), (-9223372036854775808)) v(s) ORDER BY s;
-- the same seed twice in one statement and in two statements
SELECT ecs_generate_name('fox', 7) = ecs_generate_name('fox', 7) AS same_in_statement;
SELECT ecs_generate_name('fox', 7) AS fox7;
-- a NULL seed draws a random name (of the same style)
SELECT ecs_generate_name('wolf') ~ '^[A-Z][a-z]+( [A-Za-z-]+( [A-Za-z-]+)?)? of the ([A-Z][A-Za-z-]+ )?Wolf$' AS random_name_ok,
       ecs_generate_name('wolf', NULL) IS NOT NULL AS null_seed_is_random;

-- style: "Given[ suffix] of the [Title ]Spirit", for every enabled spirit
SELECT count(*) AS names,
       count(*) FILTER (WHERE n ~ ('^[A-Z][a-z]+( (the [A-Z][a-z]+|Twice-Born))? of the [A-Z][A-Za-z-]+ ' || d || '$')) AS well_formed
  FROM ecs.naming_spirits s, generate_series(1, 200) i,
       LATERAL (SELECT ecs_generate_name(s.spirit_id, i) AS n, s.display_name AS d) x
 WHERE s.enabled;

-- thousands of distinct names per spirit (5000 seeds each)
SELECT spirit_id, count(DISTINCT ecs_generate_name(spirit_id, i)) >= 4000 AS thousands_distinct
  FROM ecs_naming_spirits(), generate_series(1, 5000) i
 GROUP BY spirit_id ORDER BY spirit_id;
-- about one name in four has a suffix
SELECT count(*) FILTER (WHERE ecs_generate_name('stag', i) ~ ' (the [A-Z][a-z]+|Twice-Born) of the ') BETWEEN 2200 AND 2800 AS quarter_suffixed
  FROM generate_series(1, 10000) i;

-- spirit-specific components belong to their spirit only: the wolf titles
SELECT count(*) FILTER (WHERE ecs_generate_name('wolf', i) ~ ' of the (Grey|Howling|Lone|Northern) Wolf$') > 0 AS wolf_has_wolf_titles,
       count(*) FILTER (WHERE ecs_generate_name('bear', i) ~ ' of the (Grey|Howling|Lone|Northern) Bear$') AS bear_with_wolf_titles
  FROM generate_series(1, 2000) i;

-- weights: a heavy prefix dominates (expected share 1000/1032); the change
-- is seen by the next statement of the same transaction
BEGIN;
INSERT INTO ecs.naming_components (spirit_id, component_type, value, weight)
VALUES ('lynx', 'prefix', 'Zephyr', 1000);
SELECT count(*) FILTER (WHERE ecs_generate_name('lynx', i) LIKE 'Zephyr%') BETWEEN 940 AND 995 AS heavy_prefix_dominates,
       count(*) FILTER (WHERE ecs_generate_name('wolf', i) LIKE 'Zephyr%') AS other_spirit_untouched
  FROM generate_series(1, 1000) i;
-- a shared title of the spirit-less kind reaches every spirit
INSERT INTO ecs.naming_components (spirit_id, component_type, value, weight)
VALUES (NULL, 'title', 'Unheard-Of', 1e6);
SELECT ecs_generate_name('wolf', 1) AS wolf1_with_heavy_title;
ROLLBACK;
SELECT ecs_generate_name('wolf', 1) AS wolf1_again;

-- a spirit with no parts of a type: the parts present are used, the
-- display name stands in for an empty given name
BEGIN;
INSERT INTO ecs.naming_spirits (spirit_id, display_name) VALUES ('moth', 'Moth');
SELECT ecs_generate_name('moth', 5) AS moth_shared_parts;
DELETE FROM ecs.naming_components WHERE component_type IN ('prefix', 'root', 'title');
SELECT ecs_generate_name('moth', 5) AS moth_no_parts;
-- a lower-case first letter is capitalised
INSERT INTO ecs.naming_components (spirit_id, component_type, value) VALUES ('moth', 'root', 'quill');
SELECT ecs_generate_name('moth', 5) AS moth_capitalised;
ROLLBACK;

-- ecs_naming_spirits(): the enabled spirits and what they can produce
SELECT * FROM ecs_naming_spirits();
BEGIN;
UPDATE ecs.naming_spirits SET enabled = false WHERE spirit_id = 'wolf';
UPDATE ecs.naming_spirits SET enabled = true WHERE spirit_id = 'phoenix';
SELECT string_agg(spirit_id, ',' ORDER BY spirit_id) AS enabled_spirits FROM ecs_naming_spirits();
-- a spirit disabled in this transaction is refused right away
SELECT ecs_generate_name('wolf', 1);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- NULL spirit: NULL name (whatever the seed)
SELECT ecs_generate_name(NULL, 1) IS NULL AS null_spirit, ecs_generate_name(NULL) IS NULL AS null_both;

-- invalid input: unknown spirit (P0002), disabled spirit (55000); the hint
-- lists the enabled spirits
SELECT ecs_generate_name('dragon', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_generate_name('Wolf', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_generate_name('', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_generate_name('phoenix', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_generate_name('phoenix');
\echo :LAST_ERROR_SQLSTATE
-- and ecs_spawn, which names through it, refuses them the same way
SELECT ecs_spawn(1, 1, 'phoenix');
\echo :LAST_ERROR_SQLSTATE
-- an error inside a statement leaves no stale cache behind
SELECT ecs_generate_name(s, 1) FROM (VALUES ('wolf'), ('dragon')) v(s);
\echo :LAST_ERROR_SQLSTATE
SELECT ecs_generate_name('wolf', 1) AS wolf1_after_error;

-- the parts read are reused by later statements only while provably
-- unchanged: a committed change (here of this session, autocommit) is seen
-- by the very next call, and so is its removal
SELECT ecs_generate_name('lynx', 3) AS lynx3;
SELECT ecs_generate_name('lynx', 3) AS lynx3_again;
INSERT INTO ecs.naming_components (spirit_id, component_type, value, weight)
VALUES ('lynx', 'title', 'Committed', 1e6);
SELECT ecs_generate_name('lynx', 3) AS lynx3_committed_title;
DELETE FROM ecs.naming_components WHERE value = 'Committed';
SELECT ecs_generate_name('lynx', 3) AS lynx3_title_gone;
-- a commit that does not touch the naming tables (here a write to another
-- table) changes the snapshot, not the parts: they are kept after a check
-- of the naming tables' row versions (DEBUG2 says so), and the name is the
-- same; a committed change of a naming table is read again (no DEBUG2 line)
CREATE TEMP TABLE naming_other (x int);
SELECT ecs_generate_name('lynx', 3) AS lynx3_before_other_commit;
INSERT INTO naming_other VALUES (1);
SET client_min_messages = debug2;
SELECT ecs_generate_name('lynx', 3) AS lynx3_after_other_commit;
RESET client_min_messages;
UPDATE ecs.naming_components SET weight = weight WHERE spirit_id = 'lynx' AND component_type = 'title';
SET client_min_messages = debug2;
SELECT ecs_generate_name('lynx', 3) AS lynx3_after_naming_commit;
RESET client_min_messages;
-- a change written and then used within one transaction, and its rollback
BEGIN;
SELECT ecs_generate_name('lynx', 3) AS lynx3_in_transaction;
UPDATE ecs.naming_spirits SET display_name = 'Renamed Lynx' WHERE spirit_id = 'lynx';
SELECT ecs_generate_name('lynx', 3) AS lynx3_renamed;
ROLLBACK;
SELECT ecs_generate_name('lynx', 3) AS lynx3_after_rollback;

-- another role does not get the parts read for this one: a role without
-- SELECT on the naming tables is refused (42501) even right after a call
-- of ours with the same snapshot
BEGIN;
CREATE ROLE regress_ecs_namer;
GRANT USAGE ON SCHEMA ecs TO regress_ecs_namer;
SELECT ecs_generate_name('wolf', 11) AS wolf11;
SET LOCAL ROLE regress_ecs_namer;
SELECT ecs_generate_name('wolf', 11);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- row-level security on a naming table: its policy may depend on a setting,
-- so the parts are read again for each statement (not kept from the
-- previous one of the same transaction and snapshot)
BEGIN;
CREATE ROLE regress_ecs_namer;
GRANT USAGE ON SCHEMA ecs TO regress_ecs_namer;
GRANT SELECT ON ecs.naming_spirits, ecs.naming_components TO regress_ecs_namer;
ALTER TABLE ecs.naming_components ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_ecs_titles ON ecs.naming_components FOR SELECT
    USING (component_type <> 'title' OR current_setting('regress_ecs.titles', true) = 'on');
SET LOCAL ROLE regress_ecs_namer;
SET LOCAL regress_ecs.titles = 'on';
SELECT ecs_generate_name('wolf', 11) AS wolf11_titles_visible;
SET LOCAL regress_ecs.titles = 'off';
SELECT ecs_generate_name('wolf', 11) AS wolf11_titles_hidden;
ROLLBACK;

-- markings
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict, l.lanname,
       p.proconfig
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.proname IN ('ecs_generate_name', 'ecs_naming_spirits')
 ORDER BY 1;
