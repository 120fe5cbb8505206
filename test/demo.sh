#!/usr/bin/env bash
# test/demo.sh — the main job of ecs_agents in a few minutes (`make demo`).
#
#   1. installs what it needs (root: apt-get; otherwise it says what to install),
#      builds, installs into a throwaway copy of the server, starts a throwaway
#      cluster (all removed on exit; ECS_KEEP_TMP=1 keeps it);
#   2. generates a population with a realistic pedigree: founders, then
#      generations bred from the two previous ones, so shared ancestors are
#      common (test/bench's generator when it is there, else the one below);
#   3. shows the headline calls and their answers: mates, why, lineage,
#      kinship, social statistics;
#   4. times each call (median and p95 over several agents) next to the naive
#      SQL an application writes for the same answer: the EAV join for mates
#      and compatibility, the recursive CTE for lineage, PL/pgSQL recursion for
#      kinship, and prints them as one table.
# A function not installed yet is shown as "not installed" and skipped.
#
# Settings (environment):
#   ECS_DEMO_AGENTS  population size, default 20000 (founders are a fifth)
#   ECS_DEMO_SEED    seed of the generator, default 42
#   ECS_DEMO_REPS    timed calls per query, default 20
source "$(dirname "$0")/lib/cluster.sh"

AGENTS=${ECS_DEMO_AGENTS:-20000}
SEED=${ECS_DEMO_SEED:-42}
REPS=${ECS_DEMO_REPS:-20}
case "$AGENTS$SEED$REPS" in *[!0-9]*) echo "demo: ECS_DEMO_AGENTS, ECS_DEMO_SEED and ECS_DEMO_REPS are whole numbers" >&2; exit 2 ;; esac
[ "$AGENTS" -ge 100 ] || { echo "demo: ECS_DEMO_AGENTS must be at least 100" >&2; exit 2; }

ecs_build_deps
ecs_make_tmp
ecs_build_and_install
ecs_cluster_start

export PGDATABASE=ecs_demo
psql -X -q -d postgres -c 'CREATE DATABASE ecs_demo'
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION ecs_agents'

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
t0=$SECONDS

# ---------------------------------------------------------------------------
# population
# ---------------------------------------------------------------------------
generator="$ECS_ROOT/test/bench/generate.sql"
bench_population() {
    # the benchmark's generator (test/bench/run.sh does the same): founders,
    # 4 more generations with pedigree collapse, positions, relationships and
    # interactions, loaded with triggers off and then validated
    local qq=(env PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1)
    local role="SET session_replication_role = replica"
    "${qq[@]}" -f "$generator" >/dev/null &&
    "${qq[@]}" -c "$role" -c "CALL bench.generate($AGENTS, 5, $SEED)" &&
    "${qq[@]}" -c "CALL bench.drop_indexes()" &&
    "${qq[@]}" -c "$role" -c "CALL bench.load(0, 1)" -c "CALL bench.generate_interactions(0, 1)" &&
    "${qq[@]}" -c "CALL bench.restore_indexes()" &&
    "${qq[@]}" -c "SELECT pg_catalog.setval('ecs.agent_interactions_interaction_id_seq', pg_catalog.max(interaction_id)) FROM ecs.agent_interactions" >/dev/null &&
    "${qq[@]}" -c "SELECT bench.validate()" >/dev/null &&
    # the generator writes ids agent1..agentN itself: move the id sequence
    # past them, or ecs_breed/ecs_spawn would generate taken ids (23505)
    "${qq[@]}" -c "SELECT pg_catalog.setval('ecs.agent_number_seq', GREATEST(s.last_value, m.n)) FROM ecs.agent_number_seq s, (SELECT pg_catalog.max((pg_catalog.regexp_match(agent_id, '^agent([0-9]+)\$'))[1]::int8) AS n FROM ecs.agents) m WHERE m.n IS NOT NULL" >/dev/null &&
    [ "$("${qq[@]}" -At -c 'SELECT pg_catalog.count(*) FROM ecs.agents')" -gt 0 ]
}
use_embedded=1
if [ -f "$generator" ]; then
    ecs_log "population: $AGENTS agents with test/bench/generate.sql"
    AGENTS=$(( AGENTS / 5 * 5 ))
    if bench_population; then
        use_embedded=0
    else
        ecs_log "test/bench/generate.sql failed; using the demo's own generator"
        q -c 'DROP SCHEMA IF EXISTS bench CASCADE' -c 'DROP EXTENSION ecs_agents CASCADE' -c 'CREATE EXTENSION ecs_agents'
    fi
fi
if [ $use_embedded = 1 ]; then
    ecs_log "population: $AGENTS agents (founders, then 4 generations)"
    # One set-based INSERT per generation.  Parents: a random female and a
    # random male of the two previous generations (so half-siblings and
    # cousins are common); genes from either parent plus gaussian mutation of
    # the trait's mutation_sd, clamped to [0, 1]; spirit of parent 1.
    founders=$((AGENTS / 5))
    q -c "SELECT pg_catalog.count(*) FROM ecs_spawn($founders, $SEED)" >/dev/null
    rest=$((AGENTS - founders))
    for g in 1 2 3 4; do
        n=$((rest / 4)); [ $g -eq 4 ] && n=$((rest - 3 * (rest / 4)))
        q -v g=$g -v n=$n -v s=$((SEED * 10 + g)) <<'SQL'
WITH pool AS (
    SELECT pg_catalog.array_agg(a.agent_id::text ORDER BY a.agent_id) FILTER (WHERE a.sex = 'female') AS fem,
           pg_catalog.array_agg(a.agent_id::text ORDER BY a.agent_id) FILTER (WHERE a.sex = 'male') AS mal
      FROM ecs.agents a
     WHERE a.generation IN (:g - 1, :g - 2)),
pairs AS (
    SELECT i,
           fem[1 + pg_catalog.floor(ecs_random(:s, i * 64) * pg_catalog.cardinality(fem))::int4] AS p1,
           mal[1 + pg_catalog.floor(ecs_random(:s, i * 64 + 1) * pg_catalog.cardinality(mal))::int4] AS p2
      FROM pool, pg_catalog.generate_series(0::int8, :n - 1) i)
INSERT INTO ecs.agents (agent_id, name, sex, spirit_id, generation, parent1_id, parent2_id, genome)
SELECT 'agent' || pg_catalog.nextval('ecs.agent_number_seq'),
       ecs_generate_name(f.spirit_id, (ecs_random(:s, p.i * 64 + 2) * 9.0e18)::int8),
       CASE WHEN ecs_random(:s, p.i * 64 + 3) < 0.5 THEN 'female' ELSE 'male' END,
       f.spirit_id, :g, f.agent_id, m.agent_id,
       ARRAY(SELECT LEAST(1, GREATEST(0,
                      CASE WHEN ecs_random(:s, p.i * 64 + 8 + c.position) < 0.5
                           THEN f.genome[c.position + 1] ELSE m.genome[c.position + 1] END
                      + c.mutation_sd * ecs_random_gaussian(:s, p.i * 64 + 32 + c.position)))::float4
               FROM ecs.trait_catalog c ORDER BY c.position)
  FROM pairs p
  JOIN ecs.agents f ON f.agent_id = p.p1
  JOIN ecs.agents m ON m.agent_id = p.p2
 ORDER BY p.i;
SQL
    done
fi
if [ $use_embedded = 1 ]; then
ecs_log "population ready in $((SECONDS - t0))s; adding positions, relationships, interactions"

# components: a position for everyone, random friendships and rivalries, a
# mate relationship for every parent pair, and 5 interactions per agent
q -v seed="$SEED" -v agents="$AGENTS" <<'SQL'
INSERT INTO ecs.agent_positions (agent_id, x, y)
SELECT a.agent_id, ecs_random(:seed, pg_catalog.hashtext(a.agent_id) * 2::int8) * 1000,
       ecs_random(:seed, pg_catalog.hashtext(a.agent_id) * 2::int8 + 1) * 1000
  FROM ecs.agents a;
CREATE TEMP TABLE ids AS
SELECT pg_catalog.row_number() OVER (ORDER BY a.agent_id) AS n, a.agent_id::text AS id FROM ecs.agents a;
INSERT INTO ecs.agent_relationships (agent1_id, agent2_id, kind, strength)
SELECT DISTINCT ON (lo, hi, kind) lo, hi, kind, strength
  FROM (SELECT LEAST(x.id COLLATE "C", y.id COLLATE "C") AS lo,
               GREATEST(x.id COLLATE "C", y.id COLLATE "C") AS hi,
               CASE WHEN ecs_random(:seed + 1, i * 4 + 2) < 0.7 THEN 'friend' ELSE 'rival' END AS kind,
               ecs_random(:seed + 1, i * 4 + 3) * 2 - 1 AS strength
          FROM pg_catalog.generate_series(0::int8, :agents - 1) i
          JOIN ids x ON x.n = 1 + pg_catalog.floor(ecs_random(:seed + 1, i * 4) * :agents)
          JOIN ids y ON y.n = 1 + pg_catalog.floor(ecs_random(:seed + 1, i * 4 + 1) * :agents)
         WHERE x.id <> y.id) r
UNION ALL
SELECT DISTINCT LEAST(a.parent1_id::text COLLATE "C", a.parent2_id::text COLLATE "C"),
       GREATEST(a.parent1_id::text COLLATE "C", a.parent2_id::text COLLATE "C"), 'mate', 1
  FROM ecs.agents a WHERE a.parent1_id IS NOT NULL AND a.parent2_id IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO ecs.agent_interactions (agent1_id, agent2_id, kind, outcome, occurred_at)
SELECT x.id, y.id,
       (ARRAY['meet', 'help', 'trade', 'fight'])[1 + pg_catalog.floor(ecs_random(:seed + 2, i * 5 + 2) * 4)::int4],
       pg_catalog.round((ecs_random(:seed + 2, i * 5 + 3) * 2 - 1)::numeric, 2)::float8,
       pg_catalog.now() - pg_catalog.make_interval(secs => ecs_random(:seed + 2, i * 5 + 4) * 86400 * 90)
  FROM pg_catalog.generate_series(0::int8, 5 * :agents - 1) i
  JOIN ids x ON x.n = 1 + pg_catalog.floor(ecs_random(:seed + 2, i * 5) * :agents)
  JOIN ids y ON y.n = 1 + pg_catalog.floor(ecs_random(:seed + 2, i * 5 + 1) * :agents)
 WHERE x.id <> y.id;
SQL
fi
q -c 'VACUUM ANALYZE' >/dev/null
ecs_log "population and components ready in $((SECONDS - t0))s"

# what the naive application has: an EAV trait table (indexed), a recursive
# CTE, PL/pgSQL recursion for kinship
q <<'SQL'
CREATE TABLE public.naive_traits AS
SELECT agent_id, trait_name, value FROM ecs.agent_traits;
ALTER TABLE public.naive_traits ADD PRIMARY KEY (agent_id, trait_name);
CREATE INDEX ON public.naive_traits (trait_name);
ANALYZE public.naive_traits;

-- coefficient of coancestry by plain recursion, expanding the younger agent;
-- budget = expansions left (2 x kinship_depth)
CREATE FUNCTION public.naive_kinship(x text, y text, budget int) RETURNS float8
LANGUAGE plpgsql STABLE AS $$
DECLARE
    x1 text; x2 text; xg int;
    y1 text; y2 text; yg int;
BEGIN
    IF x IS NULL OR y IS NULL OR budget < 0 THEN
        RETURN 0;
    END IF;
    SELECT parent1_id, parent2_id, generation INTO x1, x2, xg FROM ecs.agents WHERE agent_id = x;
    IF x = y THEN
        RETURN 0.5 * (1 + public.naive_kinship(x1, x2, budget - 1));
    END IF;
    SELECT parent1_id, parent2_id, generation INTO y1, y2, yg FROM ecs.agents WHERE agent_id = y;
    IF yg > xg THEN
        RETURN 0.5 * (public.naive_kinship(x, y1, budget - 1) + public.naive_kinship(x, y2, budget - 1));
    END IF;
    RETURN 0.5 * (public.naive_kinship(x1, y, budget - 1) + public.naive_kinship(x2, y, budget - 1));
END
$$;

-- the timing harness: median and p95 in ms of reps runs of q, each on the
-- next sample agent(s): %1$L and %2$L are two agents, %3$L the whole sample.
-- count(q.*), not count(*): the planner would skip computing unused columns
CREATE TABLE public.demo_results (
    ord serial, label text, calls int, per int,
    ecs_p50 float8, ecs_p95 float8, naive_p50 float8, naive_p95 float8, note text);

CREATE FUNCTION public.demo_time(q text, ids text[], reps int, OUT p50 float8, OUT p95 float8)
LANGUAGE plpgsql AS $$
DECLARE
    t float8[] := '{}';
    t0 timestamptz;
    n int := pg_catalog.cardinality(ids);
BEGIN
    -- one untimed run: plan caches and buffers warm
    EXECUTE pg_catalog.format('SELECT pg_catalog.count(q.*) FROM (%s) q', pg_catalog.format(q, ids[1], ids[1 + 1 % n], ids));
    FOR i IN 0 .. reps - 1 LOOP
        t0 := pg_catalog.clock_timestamp();
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(q.*) FROM (%s) q',
                                  pg_catalog.format(q, ids[1 + i % n], ids[1 + (i + 1) % n], ids));
        t := t || (extract(epoch FROM pg_catalog.clock_timestamp() - t0) * 1000)::float8;
    END LOOP;
    SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY v),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY v)
      INTO p50, p95 FROM pg_catalog.unnest(t) v;
END
$$;

CREATE TABLE public.demo_pairs (agent1_id text, agent2_id text, score float8);
CREATE FUNCTION public.demo_save_pairs(n int) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE public.demo_pairs;
    -- EXECUTE: the function may not exist yet when this is created
    EXECUTE 'INSERT INTO public.demo_pairs SELECT * FROM ecs_pair_population(0, $1)' USING n;
    RETURN (SELECT pg_catalog.count(*) FROM public.demo_pairs);
END
$$;

CREATE FUNCTION public.demo_row(label text, fns text[], ecs_q text, naive_q text, ids text[],
                                reps int, per int DEFAULT 1) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    e_p50 float8;
    e_p95 float8;
    n_p50 float8;
    n_p95 float8;
    note text;
    missing text;
BEGIN
    SELECT pg_catalog.string_agg(f, ', ') INTO missing FROM pg_catalog.unnest(fns) f
     WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_proc p
                        WHERE p.proname OPERATOR(pg_catalog.=) f AND pg_catalog.pg_function_is_visible(p.oid));
    IF missing IS NOT NULL THEN
        INSERT INTO public.demo_results (label, note) VALUES (label, 'not installed: ' || missing);
        RETURN;
    END IF;
    BEGIN
        SELECT t.p50, t.p95 INTO e_p50, e_p95 FROM public.demo_time(ecs_q, ids, reps) t;
    EXCEPTION WHEN OTHERS THEN
        note := 'error ' || SQLSTATE || ': ' || SQLERRM;
    END;
    IF naive_q IS NOT NULL AND note IS NULL THEN
        BEGIN
            SELECT t.p50, t.p95 INTO n_p50, n_p95 FROM public.demo_time(naive_q, ids, reps) t;
        EXCEPTION WHEN OTHERS THEN
            note := 'naive: error ' || SQLSTATE || ': ' || SQLERRM;
        END;
    END IF;
    INSERT INTO public.demo_results (label, calls, per, ecs_p50, ecs_p95, naive_p50, naive_p95, note)
    VALUES (label, reps, per, e_p50 / per, e_p95 / per, n_p50 / per, n_p95 / per, note);
END
$$;
SQL

# ---------------------------------------------------------------------------
# the headline calls and their answers
# ---------------------------------------------------------------------------
q -v seed="$SEED" <<'SQL'
SELECT pg_catalog.count(*) AS agents,
       pg_catalog.count(*) FILTER (WHERE generation = 0) AS founders,
       pg_catalog.max(generation) AS generations,
       (SELECT pg_catalog.count(*) FROM ecs.agent_relationships) AS relationships,
       (SELECT pg_catalog.count(*) FROM ecs.agent_interactions) AS interactions
  FROM ecs.agents;
-- a young agent with a deep pedigree, and a founder
SELECT a.agent_id AS young FROM ecs.agents a
 WHERE a.generation = (SELECT pg_catalog.max(generation) FROM ecs.agents)
 ORDER BY ecs_random(:seed, pg_catalog.hashtext(a.agent_id)), a.agent_id LIMIT 1 \gset
SELECT a.agent_id AS founder FROM ecs.agents a WHERE a.generation = 0
 ORDER BY ecs_random(:seed, pg_catalog.hashtext(a.agent_id)), a.agent_id LIMIT 1 \gset
SELECT f = ANY (ARRAY(SELECT p.proname::text FROM pg_catalog.pg_proc p WHERE pg_catalog.pg_function_is_visible(p.oid))) AS has
  FROM (VALUES ('ecs_find_mates')) v(f) \gset mates_
SELECT f = ANY (ARRAY(SELECT p.proname::text FROM pg_catalog.pg_proc p WHERE pg_catalog.pg_function_is_visible(p.oid))) AS has
  FROM (VALUES ('ecs_compatibility_explain')) v(f) \gset explain_
SELECT f = ANY (ARRAY(SELECT p.proname::text FROM pg_catalog.pg_proc p WHERE pg_catalog.pg_function_is_visible(p.oid))) AS has
  FROM (VALUES ('ecs_kinship')) v(f) \gset kinship_
SELECT f = ANY (ARRAY(SELECT p.proname::text FROM pg_catalog.pg_proc p WHERE pg_catalog.pg_function_is_visible(p.oid))) AS has
  FROM (VALUES ('ecs_social_stats')) v(f) \gset social_
\pset footer off
\echo
\echo '== the five best mates of' :young '(exact top-k: trait score, then kinship re-rank)'
\if :mates_has
SELECT * FROM ecs_find_mates(:'young', 5);
\if :explain_has
SELECT m.mate_id AS best FROM ecs_find_mates(:'young', 1) m \gset
\echo '== why' :best
SELECT * FROM ecs_compatibility_explain(:'young', :'best');
\endif
\else
\echo '(ecs_find_mates is not installed yet)'
\endif
\echo '== the pedigree of' :young 'two generations up'
SELECT * FROM ecs_lineage(:'young', 2, 'ancestors') ORDER BY depth, agent_id;
\if :kinship_has
\echo '== kinship between the parents of' :young
SELECT a.parent1_id, a.parent2_id,
       pg_catalog.round(ecs_kinship(a.parent1_id, a.parent2_id)::numeric, 5) AS kinship,
       pg_catalog.round(ecs_relatedness(a.parent1_id, a.parent2_id)::numeric, 5) AS relatedness,
       pg_catalog.round(ecs_inbreeding(a.agent_id)::numeric, 5) AS inbreeding_of_child
  FROM ecs.agents a WHERE a.agent_id = :'young';
\endif
\if :social_has
\echo '== social statistics of' :young
\x on
SELECT * FROM ecs_social_stats(:'young');
\x off
\endif
SQL

# ---------------------------------------------------------------------------
# timings: ecs_agents next to the naive SQL
# ---------------------------------------------------------------------------
ecs_log "timing the headline calls ($REPS calls each)"
population=$(q -At -c 'SELECT pg_catalog.count(*) FROM ecs.agents')
BATCH_REPS=$(( REPS / 5 > 2 ? REPS / 5 : 2 ))
q -v seed="$SEED" -v reps="$REPS" -v breps="$BATCH_REPS" <<'SQL'
\set QUIET on
\o /dev/null
-- 20 young agents (deep pedigrees) and 20 founders (large descendant trees)
SELECT pg_catalog.array_agg(id) AS young FROM (
    SELECT a.agent_id::text AS id FROM ecs.agents a
     WHERE a.generation = (SELECT pg_catalog.max(generation) FROM ecs.agents)
     ORDER BY ecs_random(:seed, pg_catalog.hashtext(a.agent_id)), a.agent_id LIMIT 20) s \gset
SELECT pg_catalog.array_agg(id) AS founders FROM (
    SELECT a.agent_id::text AS id FROM ecs.agents a WHERE a.generation = 0
     ORDER BY ecs_random(:seed, pg_catalog.hashtext(a.agent_id)), a.agent_id LIMIT 20) s \gset

\set naive_mates 'SELECT tb.agent_id, 1 - pg_catalog.sum(c.weight * pg_catalog.abs(CASE c.mode WHEN ''similar'' THEN ta.value ELSE 1 - ta.value END - tb.value)) / pg_catalog.sum(c.weight) AS score FROM public.naive_traits ta JOIN ecs.trait_catalog c ON c.trait_name = ta.trait_name JOIN public.naive_traits tb ON tb.trait_name = ta.trait_name AND tb.agent_id <> ta.agent_id JOIN ecs.agents a ON a.agent_id = ta.agent_id JOIN ecs.agents b ON b.agent_id = tb.agent_id AND b.active WHERE ta.agent_id = AGENT AND (a.sex IS NULL OR b.sex IS NULL OR a.sex <> b.sex) GROUP BY tb.agent_id ORDER BY score DESC, tb.agent_id LIMIT 5'

SELECT public.demo_row('mates: top 5 of one agent', '{ecs_find_mates}',
    'SELECT * FROM ecs_find_mates(%1$L, 5)',
    pg_catalog.replace(:'naive_mates', 'AGENT', '%1$L'), :'young', :reps);
SELECT public.demo_row('mates: batch of 20 (per agent)', '{ecs_find_mates_batch}',
    'SELECT * FROM ecs_find_mates_batch(%3$L::text[], 5)',
    'SELECT m.* FROM pg_catalog.unnest(%3$L::text[]) x(id) CROSS JOIN LATERAL ('
        || pg_catalog.replace(:'naive_mates', 'AGENT', 'x.id') || ') m',
    :'young', :breps, 20);
SELECT public.demo_row('compatibility of a pair', '{ecs_compatibility}',
    'SELECT ecs_compatibility(%1$L, %2$L)',
    'SELECT 1 - pg_catalog.sum(c.weight * pg_catalog.abs(CASE c.mode WHEN ''similar'' THEN ta.value ELSE 1 - ta.value END - tb.value)) / pg_catalog.sum(c.weight) FROM public.naive_traits ta JOIN ecs.trait_catalog c ON c.trait_name = ta.trait_name JOIN public.naive_traits tb ON tb.trait_name = ta.trait_name WHERE ta.agent_id = %1$L AND tb.agent_id = %2$L',
    :'young', :reps);
SELECT public.demo_row('lineage: ancestors, depth 6', '{ecs_lineage}',
    'SELECT * FROM ecs_lineage(%1$L, 6, ''ancestors'')',
    'WITH RECURSIVE anc(agent_id, depth) AS (SELECT agent_id::text, 0 FROM ecs.agents WHERE agent_id = %1$L UNION ALL SELECT p.id::text, anc.depth + 1 FROM anc JOIN ecs.agents x ON x.agent_id = anc.agent_id CROSS JOIN LATERAL (VALUES (x.parent1_id), (x.parent2_id)) p(id) WHERE p.id IS NOT NULL AND anc.depth < 6) SELECT agent_id, pg_catalog.min(depth) FROM anc GROUP BY agent_id',
    :'young', :reps);
SELECT public.demo_row('lineage: descendants, depth 4', '{ecs_lineage}',
    'SELECT * FROM ecs_lineage(%1$L, 4, ''descendants'')',
    'WITH RECURSIVE des(agent_id, depth) AS (SELECT agent_id::text, 0 FROM ecs.agents WHERE agent_id = %1$L UNION ALL SELECT c.agent_id::text, des.depth + 1 FROM des JOIN ecs.agents c ON c.parent1_id = des.agent_id OR c.parent2_id = des.agent_id WHERE des.depth < 4) SELECT agent_id, pg_catalog.min(depth) FROM des GROUP BY agent_id',
    :'founders', :reps);
SELECT public.demo_row('kinship of a pair', '{ecs_kinship}',
    'SELECT ecs_kinship(%1$L, %2$L)',
    'SELECT public.naive_kinship(%1$L, %2$L, 2 * pg_catalog.current_setting(''ecs_agents.kinship_depth'')::int)',
    :'young', :reps);
SELECT public.demo_row('social stats of one agent', '{ecs_social_stats}',
    'SELECT * FROM ecs_social_stats(%1$L)',
    'SELECT (SELECT pg_catalog.count(*) FROM ecs.agent_interactions WHERE agent1_id = %1$L OR agent2_id = %1$L) AS total, (SELECT pg_catalog.count(*) FROM ecs.agent_interactions WHERE agent1_id = %1$L) AS initiated, (SELECT pg_catalog.count(DISTINCT CASE WHEN agent1_id = %1$L THEN agent2_id ELSE agent1_id END) FROM ecs.agent_interactions WHERE agent1_id = %1$L OR agent2_id = %1$L) AS partners, (SELECT pg_catalog.avg(outcome) FROM ecs.agent_interactions WHERE agent1_id = %1$L OR agent2_id = %1$L) AS mean_outcome, (SELECT pg_catalog.max(occurred_at) FROM ecs.agent_interactions WHERE agent1_id = %1$L OR agent2_id = %1$L) AS last_at, (SELECT pg_catalog.json_object_agg(kind, n) FROM (SELECT kind, pg_catalog.count(*) AS n FROM ecs.agent_relationships WHERE agent1_id = %1$L OR agent2_id = %1$L GROUP BY kind) k) AS relationships',
    :'young', :reps);
-- pairing is the whole population's work (every agent's top 8), so it runs
-- once; the breeding row breeds from the pairs it made
SELECT public.demo_row('pair the population (500 pairs)', '{ecs_pair_population}',
    'SELECT public.demo_save_pairs(500)', NULL, :'young', 1);
SELECT public.demo_row('breed 200 children of those pairs', '{ecs_pair_population,ecs_breed}',
    'SELECT ecs_breed(p.agent1_id, p.agent2_id, NULL, pg_catalog.hashtext(p.agent1_id)) FROM (SELECT * FROM public.demo_pairs ORDER BY score DESC, agent1_id LIMIT 200) p',
    NULL, :'young', 1);
SQL

# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------
echo
echo "== timings on $population agents (ms per call: median / p95)"
printf '%-36s %6s  %-19s %-19s %9s\n' "call" "calls" "ecs_agents" "naive SQL" "speed-up"
printf '%-36s %6s  %-19s %-19s %9s\n' "------------------------------------" "------" "-------------------" "-------------------" "---------"
q -At -F $'\t' -c "SELECT label, coalesce(calls::text, '-'),
        coalesce(pg_catalog.round(ecs_p50::numeric, 2) || ' / ' || pg_catalog.round(ecs_p95::numeric, 2), '-'),
        coalesce(pg_catalog.round(naive_p50::numeric, 2) || ' / ' || pg_catalog.round(naive_p95::numeric, 2), '-'),
        coalesce(pg_catalog.round((naive_p50 / NULLIF(ecs_p50, 0))::numeric, 1) || 'x', '-'),
        coalesce(note, '')
   FROM public.demo_results ORDER BY ord" |
while IFS=$'\t' read -r label calls e n x note; do
    printf '%-36s %6s  %-19s %-19s %9s' "$label" "$calls" "$e" "$n" "$x"
    [ -n "$note" ] && printf '  (%s)' "$note"
    printf '\n'
done
cat <<'EOF'

naive SQL = what an application writes without the extension: mates and
compatibility by an EAV join over an indexed (agent_id, trait_name, value)
table, trait score only (no kinship: the app would walk pedigrees on top);
lineage by a recursive CTE; kinship by PL/pgSQL recursion over parent rows.
ecs_agents' numbers include kinship and eligibility.  Both run in the same
session on the same data; timings are wall-clock inside the server.
EOF
ecs_log "demo done in $((SECONDS - t0))s"
