#!/usr/bin/python3
"""test/bench/bench.py - run the benchmark workloads on a generated population.

Called by run.sh after generate.sql and baselines.sql (PG* variables name the
database).  Every workload is timed from one client session (psycopg, unix
socket): wall time of execute + fetch of all rows, so a figure includes one
round trip, as an application sees it.  Each ecs_* function is compared with
its baseline (the SQL or PL/pgSQL an application writes) on the same data in
the same session; a workload whose function does not exist yet prints "n/a".

Output: a table per workload on stdout, and results/<scale>-<time>.json,
.csv and .md (the markdown that docs/BENCHMARKS.md quotes).
"""

import argparse
import csv
import datetime
import glob
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg
from psycopg import errors

# ---------------------------------------------------------------------------
# baseline SQL (what the original backend ran)
# ---------------------------------------------------------------------------

# EAV mates: the trait table joined to itself, scored in SQL, no kinship
EAV_MATES = """
SELECT c.agent_id AS mate_id,
       1 - sum(tc.weight * abs(CASE WHEN tc.mode = 'similar' THEN s.value ELSE 1 - s.value END - c.value))
           / sum(tc.weight) AS score
  FROM bench.traits s
  JOIN ecs.trait_catalog tc ON tc.trait_name = s.trait_name
  JOIN bench.traits c ON c.trait_name = s.trait_name AND c.agent_id <> s.agent_id
  JOIN ecs.agents ca ON ca.agent_id = c.agent_id
  JOIN ecs.agents sa ON sa.agent_id = s.agent_id
 WHERE s.agent_id = %(id)s
   AND ca.active
   AND (sa.sex IS NULL OR ca.sex IS NULL OR ca.sex <> sa.sex)
 GROUP BY c.agent_id
 ORDER BY score DESC, c.agent_id
 LIMIT 5
"""

# recursive CTE lineage of the original backend; {u} is UNION ALL or UNION
CTE_ANCESTORS = """
WITH RECURSIVE anc AS (
    SELECT a.agent_id::text AS agent_id, a.parent1_id::text AS parent1_id,
           a.parent2_id::text AS parent2_id, 0 AS depth
      FROM ecs.agents a WHERE a.agent_id = %(id)s
    {u}
    SELECT p.agent_id::text, p.parent1_id::text, p.parent2_id::text, anc.depth + 1
      FROM anc JOIN ecs.agents p ON p.agent_id = anc.parent1_id OR p.agent_id = anc.parent2_id
     WHERE anc.depth < %(d)s)
SELECT agent_id, min(depth) AS depth FROM anc GROUP BY agent_id
"""
CTE_DESCENDANTS = """
WITH RECURSIVE des AS (
    SELECT a.agent_id::text AS agent_id, 0 AS depth
      FROM ecs.agents a WHERE a.agent_id = %(id)s
    {u}
    SELECT c.agent_id::text, des.depth + 1
      FROM des JOIN ecs.agents c ON c.parent1_id = des.agent_id OR c.parent2_id = des.agent_id
     WHERE des.depth < %(d)s)
SELECT agent_id, min(depth) AS depth FROM des GROUP BY agent_id
"""

# GROUP BY social stats (interactions + relationships), {i}/{r} = tables
SOCIAL_SQL = """
SELECT count(*) AS total,
       count(*) FILTER (WHERE i.agent1_id = %(id)s) AS initiated,
       count(*) FILTER (WHERE i.agent2_id = %(id)s) AS received,
       count(DISTINCT CASE WHEN i.agent1_id = %(id)s THEN i.agent2_id ELSE i.agent1_id END) AS partners,
       count(*) FILTER (WHERE i.outcome > 0) AS positive,
       count(*) FILTER (WHERE i.outcome < 0) AS negative,
       avg(i.outcome) AS mean_outcome,
       max(i.occurred_at) AS last_interaction,
       (SELECT jsonb_object_agg(k.kind, k.n) FROM
           (SELECT r.kind, count(*) AS n FROM {r} r
             WHERE r.agent1_id = %(id)s OR r.agent2_id = %(id)s GROUP BY r.kind) k) AS relationships,
       (SELECT avg(r.strength) FROM {r} r
         WHERE r.agent1_id = %(id)s OR r.agent2_id = %(id)s) AS mean_strength
  FROM {i} i
 WHERE i.agent1_id = %(id)s OR i.agent2_id = %(id)s
"""

# set-based trait score of many pairs over the EAV table (no kinship)
EAV_PAIRS = """
SELECT p.a, p.b,
       1 - sum(tc.weight * abs(CASE WHEN tc.mode = 'similar' THEN ta.value ELSE 1 - ta.value END - tb.value))
           / sum(tc.weight) AS score
  FROM unnest(%(a)s::text[], %(b)s::text[]) AS p(a, b)
  JOIN bench.traits ta ON ta.agent_id = p.a
  JOIN bench.traits tb ON tb.agent_id = p.b AND tb.trait_name = ta.trait_name
  JOIN ecs.trait_catalog tc ON tc.trait_name = ta.trait_name
 GROUP BY p.a, p.b
"""

# ---------------------------------------------------------------------------


def read_pgbench_logs(tmp):
    """The per-transaction logs pgbench -l wrote in tmp (log*): latencies in
    ms by script number, and the number of failed transactions' lines."""
    lat = {}
    failed = 0
    for fn in glob.glob(os.path.join(tmp, "log*")):
        with open(fn) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6:
                    continue
                if not parts[2].isdigit():
                    failed += 1
                    continue
                lat.setdefault(int(parts[3]), []).append(int(parts[2]) / 1000.0)
    return lat, failed


def pct(values, q):
    """q-th percentile (nearest rank) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(q / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


class Bench:
    def __init__(self, args):
        self.args = args
        self.conn = psycopg.connect(autocommit=True)
        self.cur = self.conn.cursor()
        self.results = []      # dicts, see record()
        self.sections = []     # (title, [rows], notes)
        self.rng = random.Random(20261129)
        self.only = set(x for x in args.only.split(",") if x)

    # -- helpers -----------------------------------------------------------
    def q(self, sql, params=None):
        self.cur.execute(sql, params)
        return self.cur.fetchall() if self.cur.description else None

    def q1(self, sql, params=None):
        r = self.q(sql, params)
        return r[0][0] if r else None

    def has(self, name):
        return bool(self.q1("SELECT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE proname = %s)", (name,)))

    def set_timeout(self, ms):
        self.q("SELECT pg_catalog.set_config('statement_timeout', %s, false)", (str(int(ms)),))

    def timed(self, sql, params_list, timeout_ms=60000, warm=1, per=1, max_timeouts=None):
        """Run sql once per params (after warm untimed runs); returns a stat dict.
        per: divide each time by this (per-agent cost of a batch).  Timeouts
        count as timeout_ms; after max_timeouts of them the rest is skipped.
        Errors are counted with their SQLSTATE."""
        times, rows, timeouts, errs, msgs = [], [], 0, {}, []
        self.set_timeout(timeout_ms)
        outs = []
        for i, p in enumerate(params_list[:warm]):
            try:
                self.q(sql, p)
            except (errors.QueryCanceled, psycopg.Error):
                pass
        for p in params_list:
            if max_timeouts is not None and timeouts >= max_timeouts:
                break
            t0 = time.perf_counter()
            try:
                self.cur.execute(sql, p)
                r = self.cur.fetchall()
                t = time.perf_counter() - t0
                rows.append(len(r))
                outs.append(r)
            except errors.QueryCanceled:
                t = timeout_ms / 1000.0
                timeouts += 1
                outs.append(None)
            except psycopg.Error as e:
                t = time.perf_counter() - t0
                errs[e.sqlstate] = errs.get(e.sqlstate, 0) + 1
                if len(msgs) < 3:
                    msgs.append("%s: %s" % (e.sqlstate, str(e).splitlines()[0]))
                outs.append(None)
            times.append(t * 1000.0 / per)
        self.set_timeout(0)
        return {
            "n": len(times),
            "p50_ms": statistics.median(times) if times else None,
            "p95_ms": pct(times, 95) if times else None,
            "rows": statistics.mean(rows) if rows else None,
            "timeouts": timeouts,
            "errors": errs,
            "error_messages": msgs,
            "outs": outs,
        }

    def record(self, workload, query, impl, st, baseline_of=None, note=""):
        d = {"workload": workload, "query": query, "impl": impl, "note": note}
        if st is None:
            d.update({"n": 0, "p50_ms": None, "p95_ms": None, "rows": None, "timeouts": 0, "errors": {}})
        else:
            d.update({k: v for k, v in st.items() if k != "outs"})
        d["baseline"] = baseline_of
        self.results.append(d)
        return d

    def want(self, name):
        return not self.only or name in self.only

    def reps(self, n):
        return max(1, int(n * self.args.reps))

    # -- data --------------------------------------------------------------
    def setup(self):
        p = self.q("SELECT n, gens, gen_size, seed, fast, seconds FROM bench.params")[0]
        self.n, self.gens, self.gsize, self.seed, self.fast, self.gen_seconds = p
        self.big = self.n >= 500000
        self.gen_timing = self.q("SELECT step, seconds, rows FROM bench.gen_timing ORDER BY seconds DESC")
        self.counts = dict(self.q("""
            SELECT 'agents', (SELECT count(*) FROM ecs.agents) UNION ALL
            SELECT 'active agents', (SELECT count(*) FROM ecs.agents WHERE active) UNION ALL
            SELECT 'positions', (SELECT count(*) FROM ecs.agent_positions) UNION ALL
            SELECT 'relationships', (SELECT count(*) FROM ecs.agent_relationships) UNION ALL
            SELECT 'interactions', (SELECT count(*) FROM ecs.agent_interactions)"""))
        seed = str(self.seed)

        def sample(where, k):
            return [r[0] for r in self.q(
                "SELECT agent_id::text FROM ecs.agents WHERE " + where +
                " ORDER BY md5(agent_id || %s) LIMIT %s", (seed, k))]
        self.active = sample("active", 200)
        self.last_gen = sample("generation = %d" % (self.gens - 1), 200)
        lo = max(1, self.gens // 2 - 5)
        self.mid_gen = sample("generation BETWEEN %d AND %d" % (lo, lo + 5), 100)
        self.social = [r[0] for r in self.q("""
            SELECT agent1_id::text FROM ecs.agent_interactions
             GROUP BY agent1_id ORDER BY count(*) DESC, agent1_id LIMIT 5""")]

    # -- workloads ---------------------------------------------------------
    def section(self, title, rows, notes=()):
        self.sections.append((title, rows, list(notes)))
        print(render_section(title, rows, notes), flush=True)

    def w_mates(self):
        title = "mates: ecs_find_mates(id, 5) vs EAV self-join"
        if not self.has("ecs_find_mates"):
            self.record("mates", "ecs_find_mates(id, 5)", "ecs", None, note="n/a")
            return self.section(title, [("ecs_find_mates(id, 5)", None, None)], ["n/a: ecs_find_mates does not exist"])
        ids = self.active[:self.reps(30)]
        # warm caches (as the targets state): two untimed passes over
        # the sample; the genome index copy is made on the second scan of an
        # unchanged index, the agent row cache learns an ancestor's address
        # the second time it is asked for
        self.timed("SELECT * FROM ecs_find_mates(%(id)s, 5)", [{"id": i} for i in ids], warm=0)
        st = self.timed("SELECT * FROM ecs_find_mates(%(id)s, 5)", [{"id": i} for i in ids], warm=len(ids))
        a = self.record("mates", "ecs_find_mates(id, 5)", "ecs", st, "EAV self-join + GROUP BY + ORDER BY score LIMIT 5")
        # backend time (the measure): the backend's own CPU per call, same agents, warm
        ck = self.cpu_per_call("SELECT * FROM ecs_find_mates(%(id)s, 5)", [{"id": i} for i in ids])
        cpu_note = []
        if ck:
            a["cpu_p50_ms"] = statistics.median(ck)
            cpu_note = ["ecs_find_mates: backend CPU per call (p50) %.2f ms, p95 %.2f ms (same agents, after the timed pass)"
                        % (a["cpu_p50_ms"], pct(ck, 95))]
        bst = self.timed(EAV_MATES, [{"id": i} for i in ids[:self.reps(3 if self.big else 5)]], timeout_ms=120000,
                         warm=0 if self.big else 1)
        b = self.record("mates", "EAV self-join + GROUP BY + ORDER BY score LIMIT 5", "baseline", bst)
        self.section(title, [(a["query"], a, b), (b["query"], b, None)],
                     ["baseline scores traits only (no kinship, no relatedness cap), as the backend did in SQL before its Python pass",
                      "ecs_find_mates timed after two untimed passes over the same agents (warm caches)"] + cpu_note)

    def w_mates_batch(self):
        title = "mates batch: ecs_find_mates_batch(100 ids, 5), per agent"
        if not self.has("ecs_find_mates_batch"):
            self.record("mates_batch", "ecs_find_mates_batch", "ecs", None, note="n/a")
            return self.section(title, [("ecs_find_mates_batch(ids, 5)", None, None)], ["n/a: ecs_find_mates_batch does not exist"])
        b_ = 100
        groups = [self.active[i * b_ % len(self.active):][:b_] for i in range(self.reps(3))]
        groups = [g if len(g) == b_ else (self.active + self.active)[:b_] for g in groups]
        st = self.timed("SELECT * FROM ecs_find_mates_batch(%(ids)s::text[], 5)", [{"ids": g} for g in groups], per=b_,
                        timeout_ms=600000)
        single = next((r for r in self.results if r["query"] == "ecs_find_mates(id, 5)" and r["n"]), None)
        a = self.record("mates_batch", "ecs_find_mates_batch(100 ids, 5) per agent", "ecs", st,
                        "ecs_find_mates(id, 5)" if single else None)
        rows = [(a["query"], a, single)]
        notes = ["rows = rows of one batch call"]
        # one large batch: 10,000 agents of 100k, 100,000 of 1M (issue 4 and 9)
        big_n = int(os.environ.get("ECS_BENCH_BIG_BATCH", "0") or 0) or (100000 if self.big else 10000)
        big_n = min(big_n, self.counts.get("active agents", 0))
        if big_n > b_:
            ids = [r[0] for r in self.q(
                "SELECT agent_id::text FROM ecs.agents WHERE active ORDER BY md5(agent_id || 'batch') LIMIT %s", (big_n,))]
            bst = self.timed("SELECT count(*) FROM ecs_find_mates_batch(%(ids)s::text[], 5)", [{"ids": ids}],
                             warm=0, per=len(ids), timeout_ms=3600000)
            if bst["outs"] and bst["outs"][0]:
                bst["rows"] = bst["outs"][0][0][0]
            c = self.record("mates_batch", "ecs_find_mates_batch(%d ids, 5) per agent" % len(ids), "ecs", bst,
                            "ecs_find_mates(id, 5)" if single else None)
            rows.append((c["query"], c, single))
            if bst["p50_ms"]:
                notes.append("the %d-agent batch took %.1f s in all (one run; rows = mates returned)"
                             % (len(ids), bst["p50_ms"] * len(ids) / 1000.0))
        if single:
            rows.append(("ecs_find_mates(id, 5), one call per agent", single, None))
        self.section(title, rows, notes)

    def w_genome_index(self):
        title = "genome index: ORDER BY genome <~> query LIMIT 5, and ecs_find_mates without the index"
        if not self.has("ecs_mate_query") or not self.q(
                "SELECT 1 FROM pg_indexes WHERE schemaname = 'ecs' AND indexname = 'agents_genome_idx'"):
            self.record("genome_index", "genome index", "ecs", None, note="n/a")
            return self.section(title, [("genome index", None, None)], ["n/a: no ecs.agents_genome_idx"])
        ids = self.active[:self.reps(30)]
        qs = [{"q": r[0]} for r in self.q("SELECT ecs_mate_query(id)::text FROM unnest(%s::text[]) id", (ids,))]
        knn = "SELECT agent_id FROM ecs.agents ORDER BY genome <~> %(q)s::float8[] LIMIT 5"
        st = self.timed(knn, qs, warm=len(qs))
        a = self.record("genome_index", "ORDER BY genome <~> query LIMIT 5 (index scan)", "ecs", st,
                        "the same query without the index (seq scan + top-5 sort)")
        self.q("SET enable_indexscan = off")
        try:
            # another statement text: psycopg prepares repeated statements, and
            # a prepared plan would keep the index scan whatever the setting
            bst = self.timed(knn + " /* no index */", qs[:self.reps(5 if self.big else 10)])
        finally:
            self.q("RESET enable_indexscan")
        b = self.record("genome_index", "the same query without the index (seq scan + top-5 sort)", "baseline", bst)
        rows = [(a["query"], a, b), (b["query"], b, None)]

        # ecs_find_mates without the index: dropped in a transaction rolled back
        single = next((r for r in self.results if r["query"] == "ecs_find_mates(id, 5)" and r["n"]), None)
        self.conn.autocommit = False
        try:
            self.cur.execute("DROP INDEX ecs.agents_genome_idx")
            nst = self.timed("SELECT * FROM ecs_find_mates(%(id)s, 5)",
                             [{"id": i} for i in ids[:self.reps(5 if self.big else 10)]], timeout_ms=300000)
        finally:
            self.conn.rollback()
            self.conn.autocommit = True
        c = self.record("genome_index", "ecs_find_mates(id, 5) without the index", "baseline", nst)
        if single:
            single_idx = dict(single, query="ecs_find_mates(id, 5) with the index (from the mates section)",
                              baseline=c["query"])
            rows.append((single_idx["query"], single_idx, c))
        rows.append((c["query"], c, None))

        # build, size, insert cost
        t0 = time.perf_counter()
        self.q("REINDEX INDEX ecs.agents_genome_idx")
        build_s = time.perf_counter() - t0
        size = self.q("SELECT pg_relation_size('ecs.agents_genome_idx')")[0][0]
        entries = self.counts.get("agents", 0)
        ins_n = 20000

        def insert_cost(drop):
            self.conn.autocommit = False
            try:
                if drop:
                    self.cur.execute("DROP INDEX ecs.agents_genome_idx")
                self.cur.execute("SET LOCAL session_replication_role = replica")
                t0 = time.perf_counter()
                self.cur.execute("""INSERT INTO ecs.agents (agent_id, generation, genome)
                                    SELECT 'bi_' || agent_id, 0, genome FROM ecs.agents
                                     ORDER BY agent_id LIMIT %s""", (ins_n,))
                return time.perf_counter() - t0
            finally:
                self.conn.rollback()
                self.conn.autocommit = True
        with_idx = min(insert_cost(False), insert_cost(False))
        without_idx = min(insert_cost(True), insert_cost(True))
        self.index_meta = {"build_s": build_s, "size_bytes": size, "entries": entries,
                           "insert_us_per_row": (with_idx - without_idx) * 1e6 / ins_n}
        notes = ["index build (REINDEX) %.1f s for %d rows; size %.1f MB (%.1f bytes per row)"
                 % (build_s, entries, size / 1048576.0, size / max(entries, 1)),
                 "insert cost of the index: %.1f us per row (%d rows inserted with and without it, "
                 "triggers off, rolled back; best of two)" % (self.index_meta["insert_us_per_row"], ins_n),
                 "the index scan and ecs_find_mates read a backend copy of the index from the second "
                 "scan of an unchanged index on (ecs_agents.genome_index_cache)"]
        self.section(title, rows, notes)

    def w_pair_population(self):
        title = "pair population: ecs_pair_population() once"
        if not self.has("ecs_pair_population"):
            self.record("pair_population", "ecs_pair_population()", "ecs", None, note="n/a")
            return self.section(title, [("ecs_pair_population()", None, None)], ["n/a: ecs_pair_population does not exist"])
        st = self.timed("SELECT count(*) FROM ecs_pair_population()", [None], warm=0,
                        timeout_ms=300000 if self.big else 600000)
        if st["outs"][0]:
            st["rows"] = st["outs"][0][0][0]
        a = self.record("pair_population", "ecs_pair_population() (count of pairs)", "ecs", st)
        notes = ["one run; rows = pairs formed"]
        if st["timeouts"]:
            notes.append("stopped by statement_timeout after %d s" % ((300 if self.big else 600)))
        self.section(title, [(a["query"], a, None)], notes)

    def w_lineage(self):
        if not self.has("ecs_lineage"):
            return self.section("lineage", [("ecs_lineage", None, None)], ["n/a: ecs_lineage does not exist"])
        # long walks are the point of this workload: lift the node cap (only here)
        self.q("SET ecs_agents.max_lineage_nodes = 2000000")
        # the function is asked for the columns the CTEs return (agent_id,
        # depth): the client then converts the same rows on both sides
        ecs_sql = "SELECT agent_id, depth FROM ecs_lineage(%(id)s, %(d)s, %(dir)s)"
        for direction, ids, cte in (("ancestors", self.last_gen, CTE_ANCESTORS),
                                    ("descendants", self.mid_gen, CTE_DESCENDANTS)):
            rows, notes, same = [], [], 0
            for d in (6, 10, 20):
                wl = "lineage_%s_%d" % (direction, d)
                # the same agents for the function and its baselines: walk
                # sizes vary by orders of magnitude from agent to agent
                sample = ids[:self.reps(8 if self.big else 12)]
                c0 = self.backend_cpu_ms()
                st = self.timed(ecs_sql, [{"id": i, "d": d, "dir": direction} for i in sample], timeout_ms=120000)
                c1 = self.backend_cpu_ms()
                tmo = 30000 if self.big else 15000
                bsample = sample
                u = self.timed(cte.format(u="UNION"), [{"id": i, "d": d} for i in bsample], timeout_ms=tmo)
                c2 = self.backend_cpu_ms()
                ua = self.timed(cte.format(u="UNION ALL"), [{"id": i, "d": d} for i in bsample[:self.reps(5)]],
                                timeout_ms=tmo, max_timeouts=2)
                # the answers must agree: same relatives at the same depth
                bad = 0
                for k in range(min(len(bsample), len(u["outs"]))):
                    e, c = st["outs"][k], u["outs"][k]
                    if e is not None and c is not None:
                        if sorted((r[0], r[1]) for r in e) != sorted((r[0], r[1]) for r in c):
                            bad += 1
                a = self.record(wl, "ecs_lineage(id, %d, '%s')" % (d, direction), "ecs", st,
                                "recursive CTE, UNION (depth-bounded)")
                b = self.record(wl, "recursive CTE, UNION (depth-bounded), depth %d" % d, "baseline", u)
                c = self.record(wl, "recursive CTE, UNION ALL (original), depth %d" % d, "baseline", ua)
                rows += [(a["query"], a, b), (b["query"], b, None), (c["query"], c, None)]
                if d in (6, 10):
                    # CPU of the backend, call by call (plans warm): what the
                    # server spends, whatever else the shared machine runs
                    ce = self.cpu_per_call(ecs_sql, [{"id": i, "d": d, "dir": direction} for i in sample])
                    cu = self.cpu_per_call(cte.format(u="UNION"), [{"id": i, "d": d} for i in bsample])
                    if ce and cu:
                        a["cpu_p50_ms"], b["cpu_p50_ms"] = statistics.median(ce), statistics.median(cu)
                        notes.append("depth %d: backend CPU per call (p50): ecs_lineage %.2f ms, UNION CTE %.2f ms (%.1fx)"
                                     % (d, a["cpu_p50_ms"], b["cpu_p50_ms"], b["cpu_p50_ms"] / a["cpu_p50_ms"]))
                elif None not in (c0, c1, c2) and st["n"] and u["n"] and not u["timeouts"]:
                    ce, cu = (c1 - c0) / (st["n"] + 1), (c2 - c1) / (u["n"] + 1)
                    a["cpu_ms_per_call"], b["cpu_ms_per_call"] = ce, cu
                    notes.append("depth %d: backend CPU per call (mean, warm-up call included): ecs_lineage %.2f ms, "
                                 "UNION CTE %.2f ms (%.1fx)" % (d, ce, cu, cu / ce if ce else 0))
                if d in (6, 10):
                    # the server's share: the same two queries under count(*),
                    # so that one row goes back (the client converts ~7 us per
                    # row of (text, int) in pure-Python psycopg)
                    sst = self.timed("SELECT count(*) FROM (%s) s" % ecs_sql,
                                     [{"id": i, "d": d, "dir": direction} for i in sample], timeout_ms=120000)
                    su = self.timed("SELECT count(*) FROM (%s) s" % cte.format(u="UNION"),
                                    [{"id": i, "d": d} for i in bsample], timeout_ms=tmo)
                    sb = self.record(wl, "server side: recursive CTE, UNION, depth %d, under count(*)" % d,
                                     "baseline", su)
                    sa = self.record(wl, "server side: ecs_lineage(id, %d, '%s') under count(*)" % (d, direction),
                                     "ecs", sst, sb["query"])
                    rows += [(sa["query"], sa, sb), (sb["query"], sb, None)]
                if bad:
                    notes.append("depth %d: %d of %d answers differ from the CTE's" % (d, bad, len(bsample)))
                else:
                    same += 1
                if u["timeouts"] or ua["timeouts"]:
                    notes.append("depth %d: timeouts (counted at the %d ms limit): UNION %d/%d, UNION ALL %d/%d"
                                 % (d, tmo, u["timeouts"], u["n"], ua["timeouts"], ua["n"]))
            who = "last generation" if direction == "ancestors" else "generations %d-%d" % (
                max(1, self.gens // 2 - 5), max(1, self.gens // 2 - 5) + 5)
            notes.insert(0, "agents sampled from the %s; rows = mean number of relatives incl. the agent, "
                         "over each query's own calls; ecs_lineage is asked for the CTEs' columns "
                         "(SELECT agent_id, depth FROM ecs_lineage(...))" % who)
            if direction == "ancestors":
                notes.insert(1, "the first ecs_lineage row of each depth is the first walk from these agents "
                             "(the agent row cache knows none of their ancestors unless a shallower walk met them); "
                             "its backend CPU and server-side rows are the second and third passes over the same agents "
                             "(addresses learnt on the second: the third is warm)")
            if same == 3:
                notes.insert(1, "ecs_lineage returned exactly the UNION CTE's (agent, depth) set for every agent both ran")
            self.section("lineage %s: ecs_lineage vs recursive CTEs" % direction, rows, notes)
        self.q("RESET ecs_agents.max_lineage_nodes")

    def w_kinship(self):
        title = "kinship at kinship_depth 6: ecs_kinship vs PL/pgSQL tabular"
        if not self.has("ecs_kinship"):
            self.record("kinship", "ecs_kinship(a, b)", "ecs", None, note="n/a")
            return self.section(title, [("ecs_kinship(a, b)", None, None)], ["n/a: ecs_kinship does not exist"])
        self.q("SET ecs_agents.kinship_depth = 6")
        ids = self.last_gen
        pairs = [{"a": ids[i], "b": ids[-1 - i]} for i in range(self.reps(20))]
        st = self.timed("SELECT ecs_kinship(%(a)s, %(b)s)", pairs)
        # the same pairs again: the agent row cache (ecs_agents.agent_row_cache)
        # learns a row's address the second time the row is asked for, and
        # fetches it by address from then on, as in a session that keeps
        # scoring one population; one untimed pass, then the timed one
        wst = self.timed("SELECT ecs_kinship(%(a)s, %(b)s)", pairs, warm=len(pairs))
        bst = self.timed("SELECT bench.kinship_tabular(%(a)s, %(b)s, 6)", pairs[:self.reps(10)], timeout_ms=120000)
        bad = compared = 0
        for k in range(min(len(st["outs"]), len(bst["outs"]))):
            e, c = st["outs"][k], bst["outs"][k]
            if e and c:
                compared += 1
                if abs((e[0][0] or 0) - (c[0][0] or 0)) > 1e-9:
                    bad += 1
        nonzero = sum(1 for o in st["outs"] if o and o[0][0])
        self.q("RESET ecs_agents.kinship_depth")
        a = self.record("kinship", "ecs_kinship(a, b), depth 6", "ecs", st, "PL/pgSQL tabular kinship, depth 6")
        w = self.record("kinship", "ecs_kinship(a, b), depth 6, the same pairs again (agent row cache warm)", "ecs", wst,
                        "PL/pgSQL tabular kinship, depth 6")
        b = self.record("kinship", "PL/pgSQL tabular kinship, depth 6", "baseline", bst)
        notes = ["pairs of the last generation; %d of %d related (kinship > 0)" % (nonzero, len(pairs)),
                 "first row: the first call for each pair (the agent row cache holds none of its ancestors); "
                 "second row and backend CPU: the same pairs a third and fourth time (addresses learnt on the second)"]
        self.q("SET ecs_agents.kinship_depth = 6")
        ck = self.cpu_per_call("SELECT ecs_kinship(%(a)s, %(b)s)", pairs)
        self.q("RESET ecs_agents.kinship_depth")
        if ck:
            a["cpu_p50_ms"] = statistics.median(ck)
            notes.append("ecs_kinship: backend CPU per call (p50) %.2f ms" % a["cpu_p50_ms"])
        if bad:
            notes.append("%d of %d values differ from the tabular method's" % (bad, compared))
        elif compared:
            notes.append("ecs_kinship equals the tabular method's value for all %d pairs both computed" % compared)
        self.section(title, [(a["query"], a, b), (w["query"], w, b), (b["query"], b, None)], notes)

    def w_compatibility(self):
        title = "compatibility: ecs_compatibility / ecs_compatibility_batch"
        rows, notes = [], []
        pa = self.active[:100]
        pb = self.active[100:200]
        if self.has("ecs_compatibility"):
            pairs = [{"a": pa[i], "b": pb[i]} for i in range(self.reps(50))]
            st = self.timed("SELECT ecs_compatibility(%(a)s, %(b)s)", pairs)
            bst = self.timed("SELECT bench.compatibility_plpgsql(%(a)s, %(b)s, "
                             "current_setting('ecs_agents.kinship_depth')::int)", pairs[:self.reps(10)])
            a = self.record("compatibility", "ecs_compatibility(a, b)", "ecs", st, "PL/pgSQL compatibility (EAV + tabular kinship)")
            b = self.record("compatibility", "PL/pgSQL compatibility (EAV + tabular kinship)", "baseline", bst)
            rows += [(a["query"], a, b), (b["query"], b, None)]
        else:
            self.record("compatibility", "ecs_compatibility(a, b)", "ecs", None, note="n/a")
            rows.append(("ecs_compatibility(a, b)", None, None))
            notes.append("n/a: ecs_compatibility does not exist")
        npairs = 10000
        all_ids = [r[0] for r in self.q("SELECT agent_id::text FROM ecs.agents WHERE active ORDER BY md5(agent_id || 'pairs') LIMIT %s",
                                       (2 * npairs,))]
        A, B = all_ids[:npairs], all_ids[npairs:2 * npairs]
        B = B + A[:npairs - len(B)]
        bst = self.timed(EAV_PAIRS, [{"a": A, "b": B}] * self.reps(3), per=npairs)
        b = self.record("compatibility_batch", "EAV trait score of 10000 pairs (one query), per pair", "baseline", bst)
        if self.has("ecs_compatibility_batch"):
            st = self.timed("SELECT * FROM ecs_compatibility_batch(%(a)s::text[], %(b)s::text[])",
                            [{"a": A, "b": B}] * self.reps(3), per=npairs)
            a = self.record("compatibility_batch", "ecs_compatibility_batch(10000 pairs), per pair", "ecs", st,
                            b["query"])
            rows += [(a["query"], a, b)]
            notes.append("ecs_compatibility_batch: %.0f pairs/s (p50)" % (1000.0 / a["p50_ms"]) if a["p50_ms"] else "")
        else:
            self.record("compatibility_batch", "ecs_compatibility_batch", "ecs", None, note="n/a")
            rows.append(("ecs_compatibility_batch(a[], b[])", None, None))
            notes.append("n/a: ecs_compatibility_batch does not exist")
        rows.append((b["query"], b, None))
        notes.append("EAV baseline: %.0f pairs/s, trait score only (no kinship)" % (1000.0 / b["p50_ms"]) if b["p50_ms"] else "")
        if self.has("ecs_compatibility_batch"):
            self.compatibility_unrelated(rows, notes)
        self.section(title, rows, [n for n in notes if n])

    def backend_cpu_ms(self):
        """CPU time the session's backend has used so far (ms), from
        /proc/<pid>/schedstat; None when the server is not on this machine."""
        if not hasattr(self, "_backend_pid"):
            self._backend_pid = self.q1("SELECT pg_backend_pid()")
        try:
            with open("/proc/%d/schedstat" % self._backend_pid) as f:
                return int(f.read().split()[0]) / 1e6
        except (OSError, ValueError, IndexError):
            return None

    def cpu_per_call(self, sql, params_list):
        """The backend's CPU time (ms) of each call of sql, one per params;
        [] when the server is not on this machine."""
        out = []
        for p in params_list:
            c0 = self.backend_cpu_ms()
            if c0 is None:
                return []
            self.cur.execute(sql, p)
            self.cur.fetchall()
            out.append(self.backend_cpu_ms() - c0)
        return out

    def compatibility_unrelated(self, rows, notes):
        """ecs_compatibility_batch on pairs whose sub-pedigrees cannot meet
        (the pairs/s target is for those), as two 100 x 100 cross products:
        founders (no parents: S(x) = {x}) against other founders, and agents
        of the last generation against agents of generation 20, far more
        than 3 * (kinship_depth + 1) generations apart (parents come from
        the previous 1-3 generations).  The pairs are kept in a temporary
        table and the call runs under count(*), so the figure is the
        server's, not the Python client's (which serialises the arrays and
        converts ~3 us per row); CPU = the backend's own CPU time per call
        (/proc schedstat), i.e. pairs per second per core whatever else the
        machine runs."""
        k = 100
        founders = [r[0] for r in self.q(
            "SELECT agent_id::text FROM ecs.agents WHERE generation = 0 ORDER BY md5(agent_id || 'unrelated') LIMIT %s",
            (2 * k,))]
        old_gen = min(20, self.gens - 1)
        last = [r[0] for r in self.q(
            "SELECT agent_id::text FROM ecs.agents WHERE generation = %s ORDER BY md5(agent_id || 'unrelated') LIMIT %s",
            (self.gens - 1, k))]
        old = [r[0] for r in self.q(
            "SELECT agent_id::text FROM ecs.agents WHERE generation = %s ORDER BY md5(agent_id || 'unrelated') LIMIT %s",
            (old_gen, k))]
        depth = int(self.q1("SELECT current_setting('ecs_agents.kinship_depth')"))
        # the arrays are built once in a temporary table: the figure is not
        # the Python client's serialisation of 2 x 10000 strings per call
        self.q("CREATE TEMP TABLE IF NOT EXISTS bench_unrelated (k int PRIMARY KEY, a text[], b text[])")
        self.q("TRUNCATE bench_unrelated")
        sql = ("SELECT count(*), sum(score) FROM ecs_compatibility_batch("
               "(SELECT a FROM bench_unrelated WHERE k = %(k)s), (SELECT b FROM bench_unrelated WHERE k = %(k)s))")
        for key, (label, xa, xb) in enumerate((
                ("100 founders x 100 other founders", founders[:k], founders[k:2 * k]),
                ("100 agents of generation %d x 100 of generation %d" % (self.gens - 1, old_gen), last, old))):
            if len(xa) < k or len(xb) < k:
                continue
            A = [x for x in xa for _ in xb]
            B = [y for _ in xa for y in xb]
            npairs = len(A)
            self.q("INSERT INTO bench_unrelated VALUES (%s, %s, %s)", (key, A, B))
            params = [{"k": key}] * self.reps(5)
            self.q(sql, params[0])           # warm
            c0 = self.backend_cpu_ms()
            st = self.timed(sql, params, per=npairs, warm=0)
            c1 = self.backend_cpu_ms()
            a = self.record("compatibility_batch_unrelated",
                            "ecs_compatibility_batch, %d unrelated pairs (%s) under count(*), per pair" % (npairs, label),
                            "ecs", st)
            rows.append((a["query"], a, None))
            line = "unrelated pairs, %s: %.0f pairs/s wall (p50)" % (label, 1000.0 / a["p50_ms"]) if a["p50_ms"] else ""
            if c0 is not None and c1 is not None and st["n"]:
                cpu_per_pair = (c1 - c0) / (st["n"] * npairs)
                a["cpu_ms_per_pair"] = cpu_per_pair
                line += ", %.0f pairs per CPU-second of the backend (mean over %d calls)" % (1000.0 / cpu_per_pair, st["n"])
            notes.append(line)
        self.q("DROP TABLE bench_unrelated")
        notes.append("unrelated pairs: kinship_depth %d; the generation-%d and generation-%d agents are more than "
                     "3 x (kinship_depth + 1) generations apart and parents come from the previous 1-3 generations, "
                     "so no pair's sub-pedigrees meet; each call also reads the 200 agents and their pedigrees"
                     % (depth, self.gens - 1, old_gen))

    def w_social(self):
        # Typical agents (random active ones, the most social excluded) are
        # timed apart from the few very social ones the generator makes: a
        # mixed sample's p95 is just its social tail.  The unindexed GROUP BY
        # scans the whole log whoever the agent is, so a few typical agents
        # give its cost.
        title = "social stats: ecs_social_stats vs GROUP BY"
        top = set(self.social)
        typical = [i for i in self.active if i not in top][:self.reps(100)]
        bi = self.timed(SOCIAL_SQL.format(i="bench.interactions_noidx", r="bench.relationships_noidx"),
                        [{"id": i} for i in typical[:self.reps(5)]], timeout_ms=120000)
        # three passes over the typical sample: a p95 of 300 calls, not of
        # the five slowest of 100
        passes = [{"id": i} for i in typical] * 3
        bx = self.timed(SOCIAL_SQL.format(i="ecs.agent_interactions", r="ecs.agent_relationships"), passes)
        b = self.record("social_stats", "GROUP BY on copies without indexes, typical agents", "baseline", bi)
        c = self.record("social_stats", "same GROUP BY on the indexed ecs tables, typical agents", "baseline", bx)
        # interactions (both sides) of the sample and of the most social agent
        sizes = dict(self.q("""
            SELECT a.id, (SELECT count(*) FROM ecs.agent_interactions i WHERE i.agent1_id = a.id)
                       + (SELECT count(*) FROM ecs.agent_interactions i WHERE i.agent2_id = a.id)
              FROM unnest(%s::text[]) a(id)""", (typical + self.social,)))
        if not self.has("ecs_social_stats"):
            self.record("social_stats", "ecs_social_stats(id), typical agents", "ecs", None, note="n/a")
            rows = [("ecs_social_stats(id)", None, None), (b["query"], b, None), (c["query"], c, None)]
            return self.section(title, rows, ["n/a: ecs_social_stats does not exist"])
        st = self.timed("SELECT * FROM ecs_social_stats(%(id)s)", passes)
        a = self.record("social_stats", "ecs_social_stats(id), typical agents", "ecs", st, b["query"])
        ts = self.timed("SELECT * FROM ecs_social_stats(%(id)s)", [{"id": i} for i in self.social * self.reps(2)])
        t = self.record("social_stats", "ecs_social_stats(id), the %d most social agents" % len(self.social), "ecs", ts)
        most = self.social[0]
        tm = self.timed("SELECT * FROM ecs_social_stats(%(id)s)", [{"id": most}] * self.reps(10))
        m = self.record("social_stats", "ecs_social_stats(id), the most social agent (%d interactions)" % sizes[most],
                        "ecs", tm)
        tsz = sorted(sizes[i] for i in typical)
        notes = ["typical agents: %d random active agents (the %d most social excluded), %d-%d interactions each, "
                 "median %d, p95 %d; each timed 3 times" % (len(typical), len(top), tsz[0], tsz[-1],
                                                            statistics.median(tsz), pct(tsz, 95)),
                 "the GROUP BY without indexes is timed on %d of them (it scans the whole log for any agent)" % bi["n"]]
        if m["p50_ms"]:
            per_k = m["p50_ms"] / sizes[most] * 1000.0
            notes.append("the most social agent: %.1f ms for %d interactions, %.2f ms per 1000; "
                         "so an agent with 100k interactions: ~%.0f ms (scaled linearly from it)"
                         % (m["p50_ms"], sizes[most], per_k, per_k * 100))
        self.section(title, [(a["query"], a, b), (b["query"], b, None), (c["query"], c, None),
                             (t["query"], t, None), (m["query"], m, None)], notes)

    def w_names(self):
        # Single calls are timed twice: on a quiet database (nothing commits
        # between calls, so the spirit's parts cached by the previous call
        # are reused) and with another session committing before each call
        # (the parts are read again), as under a write load.
        title = "names: ecs_generate_name"
        if not self.has("ecs_generate_name"):
            return self.section(title, [("ecs_generate_name", None, None)], ["n/a"])
        st = self.timed("SELECT ecs_generate_name('wolf', %(s)s)", [{"s": s} for s in range(self.reps(200))])
        a = self.record("generate_name", "ecs_generate_name('wolf', seed)", "ecs", st)
        # the round trip alone, and the server's share of a call
        fst = self.timed("SELECT %(s)s::int", [{"s": s} for s in range(self.reps(200))])
        f = self.record("generate_name", "SELECT seed::int instead (client + protocol floor)", "baseline", fst)
        cn = self.cpu_per_call("SELECT ecs_generate_name('wolf', %(s)s)", [{"s": s} for s in range(self.reps(200))])
        cpu_note = []
        if cn:
            a["cpu_p50_ms"], a["cpu_p95_ms"] = statistics.median(cn), pct(cn, 95)
            cpu_note = ["ecs_generate_name: backend CPU per call (parse, plan, execute) p50 %.3f ms, p95 %.3f ms"
                        % (a["cpu_p50_ms"], a["cpu_p95_ms"])]
        other = psycopg.connect(autocommit=True)
        try:
            ocur = other.cursor()
            times = []
            self.q("SELECT ecs_generate_name('wolf', 0)")
            for s in range(self.reps(200)):
                ocur.execute("SELECT pg_catalog.txid_current()")   # a committed xid
                t0 = time.perf_counter()
                self.cur.execute("SELECT ecs_generate_name('wolf', %(s)s)", {"s": s})
                self.cur.fetchall()
                times.append((time.perf_counter() - t0) * 1000.0)
        finally:
            other.close()
        w = self.record("generate_name", "ecs_generate_name('wolf', seed), another session commits before each call",
                        "ecs", {"n": len(times), "p50_ms": statistics.median(times), "p95_ms": pct(times, 95),
                                "rows": 1, "timeouts": 0, "errors": {}})
        bt = self.timed("SELECT count(ecs_generate_name('wolf', s)) FROM generate_series(1, 10000) s",
                        [None] * self.reps(3), per=10000)
        b = self.record("generate_name", "10000 names in one query, per name", "ecs", bt)
        rows = [(a["query"], a, None), (f["query"], f, None), (w["query"], w, None), (b["query"], b, None)]
        # the same single calls from a C client (pgbench: libpq, one
        # connection, prepared), whose own cost per call is a few µs where
        # psycopg's is tens: what a compiled application would see
        n_pg = self.reps(2000)
        pg = self.pgbench_latencies("\\set s random(1, 1000000000)\nSELECT ecs_generate_name('wolf', :s);\n", n_pg)
        pgf = self.pgbench_latencies("\\set s random(1, 1000000000)\nSELECT :s::int;\n", n_pg)
        for label, v in (("ecs_generate_name('wolf', seed) from pgbench (C client, 1 connection, prepared)", pg),
                         ("SELECT seed::int from pgbench (the C client's floor)", pgf)):
            if v:
                r = self.record("generate_name", label, "ecs" if "ecs_" in label else "baseline",
                                {"n": len(v), "p50_ms": statistics.median(v), "p95_ms": pct(v, 95),
                                 "rows": 1, "timeouts": 0, "errors": {}})
                rows.append((r["query"], r, None))
        self.section(title, rows,
                     ["%.0f names/s in one query (p50)" % (1000.0 / b["p50_ms"]) if b["p50_ms"] else ""] + cpu_note)

    def breed_pairs(self):
        """Parents: an agent and its best mate when mate search exists, else
        opposite-sex agents of the last generation."""
        pairs = []
        if self.has("ecs_find_mates_batch"):
            pairs = [(r[0], r[1]) for r in self.q(
                "SELECT agent_id::text, mate_id::text FROM ecs_find_mates_batch(%s::text[], 1)", (self.active[:100],))]
        if not pairs:
            f = [r[0] for r in self.q("SELECT agent_id::text FROM ecs.agents WHERE active AND sex = 'female' "
                                      "AND generation = %s ORDER BY agent_id LIMIT 100", (self.gens - 1,))]
            m = [r[0] for r in self.q("SELECT agent_id::text FROM ecs.agents WHERE active AND sex = 'male' "
                                      "AND generation = %s ORDER BY agent_id LIMIT 100", (self.gens - 1,))]
            pairs = list(zip(f, m))
        return pairs

    def breed_loop(self, pairs, prefix, savepoints):
        """One ecs_breed call per round trip in the current transaction, each
        in a savepoint or not; returns (times, errors).  Without savepoints
        an error aborts the transaction: it is rolled back and the loop goes
        on in a new one."""
        times, errs = [], {}
        for k, (p1, p2) in enumerate(pairs):
            t0 = time.perf_counter()
            try:
                if savepoints:
                    with self.conn.transaction():
                        self.cur.execute("SELECT ecs_breed(%s, %s, %s, %s)", (p1, p2, "%s%d" % (prefix, k), k))
                        self.cur.fetchall()
                else:
                    self.cur.execute("SELECT ecs_breed(%s, %s, %s, %s)", (p1, p2, "%s%d" % (prefix, k), k))
                    self.cur.fetchall()
                times.append((time.perf_counter() - t0) * 1000.0)
            except psycopg.Error as e:
                errs[e.sqlstate] = errs.get(e.sqlstate, 0) + 1
                if not savepoints:
                    self.conn.rollback()
        return times, errs

    def w_breed(self):
        title = "breeding: ecs_breed children/second (rolled back)"
        if not self.has("ecs_breed"):
            self.record("breed", "ecs_breed(p1, p2)", "ecs", None, note="n/a")
            return self.section(title, [("ecs_breed(p1, p2)", None, None)], ["n/a: ecs_breed does not exist"])
        pairs = self.breed_pairs()
        pairs = (pairs * 3)[:self.reps(100)]

        def stat(times, errs, rows=1):
            return {"n": len(times), "p50_ms": statistics.median(times) if times else None,
                    "p95_ms": pct(times, 95) if times else None, "rows": rows, "timeouts": 0, "errors": errs}
        # Each way of calling runs in its own transaction, rolled back at the
        # end: parents locked by earlier subtransactions of the same
        # transaction would turn every later row lock into a growing
        # MultiXact, which no real session breeding a generation meets.
        self.conn.autocommit = False
        try:
            # warm-up (plans, caches), untimed
            self.breed_loop(pairs[:10], "benchwarm", False)
            self.conn.rollback()
            # 1. one call per round trip, each in a savepoint (SAVEPOINT,
            #    SELECT, RELEASE: three round trips per child)
            self.cur.execute("SELECT 1")
            sp = stat(*self.breed_loop(pairs, "benchchild", True))
            self.conn.rollback()
            # the round trips alone: the same three with SELECT 1
            floor = []
            self.cur.execute("SELECT 1")
            for k in range(len(pairs)):
                t0 = time.perf_counter()
                with self.conn.transaction():
                    self.cur.execute("SELECT %s::int", (k,))
                    self.cur.fetchall()
                floor.append((time.perf_counter() - t0) * 1000.0)
            self.conn.rollback()
            # 2. one call per round trip, no savepoint
            one = stat(*self.breed_loop(pairs, "benchsolo", False))
            self.conn.rollback()
            # 3. one statement breeding the list of pairs, per child; each
            #    statement in its own transaction
            times, errs = [], {}
            stmt = ("SELECT count(ecs_breed(p.a, p.b, %s::text || p.k, p.k)) "
                    "FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS p(a, b, k)")
            pa = [p[0] for p in pairs]
            pb = [p[1] for p in pairs]
            for r in range(self.reps(5)):
                t0 = time.perf_counter()
                try:
                    self.cur.execute(stmt, ("benchbatch%d_" % r, pa, pb))
                    self.cur.fetchall()
                    times.append((time.perf_counter() - t0) * 1000.0 / len(pairs))
                except psycopg.Error as e:
                    errs[e.sqlstate] = errs.get(e.sqlstate, 0) + 1
                self.conn.rollback()
            batch = stat(times, errs)
        finally:
            self.conn.rollback()
            self.conn.autocommit = True
        a = self.record("breed", "ecs_breed(p1, p2, id, seed), one call per round trip, each in a savepoint", "ecs", sp)
        f = self.record("breed", "the same round trips with SELECT 1 instead (client + protocol floor)", "baseline",
                        stat(floor, {}))
        o = self.record("breed", "ecs_breed(p1, p2, id, seed), one call per round trip, no savepoint", "ecs", one)
        b = self.record("breed", "SELECT ecs_breed(...) FROM a list of %d pairs, one statement, per child" % len(pairs),
                        "ecs", batch)

        def rate(label, r):
            return "%.0f children/s %s (p50)" % (1000.0 / r["p50_ms"], label) if r["p50_ms"] else ""
        notes = [rate("one call per round trip in a savepoint", a), rate("one call per round trip", o),
                 rate("in one statement", b),
                 "pairs: %d calls over %d distinct pairs (an active agent and its best mate, ecs_find_mates_batch); "
                 "each call locks the parents, checks eligibility over the kinship pedigree and inserts the child; "
                 "each way of calling runs in its own transaction, rolled back" % (len(pairs), len(set(pairs)))]
        for r in (a, o, b):
            if r["errors"]:
                notes.append("refused (%s): %s" % (r["query"], r["errors"]))
        self.section(title, [(a["query"], a, None), (f["query"], f, None), (o["query"], o, None), (b["query"], b, None)],
                     [n for n in notes if n])

    def w_position(self):
        title = "positions"
        rows = []
        ids = self.active[:self.reps(50)]
        if self.has("ecs_agent_position"):
            st = self.timed("SELECT * FROM ecs_agent_position(%(id)s)", [{"id": i} for i in ids])
            rows.append(("ecs_agent_position(id)", self.record("position", "ecs_agent_position(id)", "ecs", st), None))
        else:
            rows.append(("ecs_agent_position(id)", None, None))
        if self.has("ecs_agents_near"):
            st = self.timed("SELECT * FROM ecs_agents_near(%(id)s, 50, 10)", [{"id": i} for i in ids])
            rows.append(("ecs_agents_near(id, 50, 10)", self.record("position", "ecs_agents_near(id, 50, 10)", "ecs", st), None))
        else:
            rows.append(("ecs_agents_near(id, 50, 10)", None, None))
        self.section(title, rows, [])

    # -- pgbench -----------------------------------------------------------
    def pgbench_latencies(self, body, n):
        """Per-call latencies (ms) of n transactions of the script body from
        one pgbench client (a new backend, prepared statements; its first
        call, which prepares the extension's plans, is one of n); [] when
        pgbench fails."""
        tmp = tempfile.mkdtemp(prefix="ecs_pgbench.")
        os.chmod(tmp, 0o777)
        path = os.path.join(tmp, "script.sql")
        with open(path, "w") as f:
            f.write(body)
        try:
            p = subprocess.run([self.args.pgbench, "-n", "-c", "1", "-t", str(n), "-M", "prepared", "-f", path,
                                "-l", "--log-prefix", os.path.join(tmp, "log")],
                               cwd=tmp, capture_output=True, text=True)
            lat = read_pgbench_logs(tmp)[0].get(0, []) if p.returncode == 0 else []
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return lat

    def load_test(self):
        a = self.args
        if a.duration <= 0:
            return None
        n = self.n
        scripts = []   # (name, weight, body)
        ids = "\\set id random(1, %d)\n\\set id2 random(1, %d)\n" % (n, n)
        if self.has("ecs_find_mates"):
            scripts.append(("mates", 20, ids + "SELECT * FROM ecs_find_mates('agent' || :id::text, 5);\n"))
        if self.has("ecs_social_stats"):
            scripts.append(("social_stats", 15, ids + "SELECT * FROM ecs_social_stats('agent' || :id::text);\n"))
        if self.has("ecs_compatibility"):
            scripts.append(("compatibility", 15, ids + "SELECT ecs_compatibility('agent' || :id::text, 'agent' || :id2::text);\n"))
        scripts.append(("lineage", 15, ids + "SELECT * FROM ecs_lineage('agent' || :id::text, 3, 'both');\n"))
        if self.has("ecs_naming_spirits"):
            scripts.append(("spirits", 5, "SELECT * FROM ecs_naming_spirits();\n"))
        else:
            scripts.append(("spirits", 5, "SELECT spirit_id, display_name FROM ecs.naming_spirits WHERE enabled ORDER BY spirit_id;\n"))
        scripts.append(("generate_name", 10, "\\set s random(1, 1000000000)\nSELECT ecs_generate_name('wolf', :s);\n"))
        if self.has("ecs_agent_position"):
            scripts.append(("position", 10, ids + "SELECT * FROM ecs_agent_position('agent' || :id::text);\n"))
        else:
            scripts.append(("position", 10, ids + "SELECT x, y FROM ecs.agent_positions WHERE agent_id = 'agent' || :id::text;\n"))
        # a share of invalid ids: unknown (P0002) and malformed (22023)
        target = "ecs_find_mates(%s, 5)" if self.has("ecs_find_mates") else "ecs_lineage(%s, 3)"
        scripts.append(("invalid_unknown", 5, ids + "SELECT bench.expect_error('SELECT * FROM %s');\n"
                        % (target % "''nosuch' || :id::text || '''")))
        scripts.append(("invalid_malformed", 5, ids + "SELECT bench.expect_error('SELECT * FROM %s');\n"
                        % ("ecs_lineage(%s, 3)" % "''bad id ' || :id::text || '''")))
        tmp = tempfile.mkdtemp(prefix="ecs_pgbench.")
        os.chmod(tmp, 0o777)
        cmd = [a.pgbench, "-n", "-c", str(a.clients), "-j", "2", "-T", str(a.duration), "-M", "prepared",
               "-l", "--log-prefix", os.path.join(tmp, "log")]
        for name, w, body in scripts:
            path = os.path.join(tmp, name + ".sql")
            with open(path, "w") as f:
                f.write(body)
            cmd += ["-f", "%s@%d" % (path, w)]
        load_before = os.getloadavg()
        print("== pgbench: %d clients, %d s, scripts: %s" % (a.clients, a.duration,
              ", ".join("%s@%d" % (s[0], s[1]) for s in scripts)), flush=True)
        p = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        out = p.stdout + p.stderr
        lat, failed_lines = read_pgbench_logs(tmp)
        tps = re.search(r"tps = ([0-9.]+)", out)
        failed = re.search(r"number of failed transactions: (\d+)", out)
        aborted = len(re.findall(r"aborted", out))
        per = []
        allv = []
        for k, (name, w, body) in enumerate(scripts):
            v = lat.get(k, [])
            allv += v
            per.append({"script": name, "weight": w, "count": len(v),
                        "p50_ms": statistics.median(v) if v else None, "p95_ms": pct(v, 95) if v else None})
        res = {"clients": a.clients, "duration_s": a.duration, "exit_code": p.returncode,
               "tps": float(tps.group(1)) if tps else None,
               "transactions": len(allv),
               "p50_ms": statistics.median(allv) if allv else None, "p95_ms": pct(allv, 95) if allv else None,
               "failed": int(failed.group(1)) if failed else None, "failed_log_lines": failed_lines,
               "client_aborts": aborted, "per_script": per, "load_before": load_before,
               "load_after": os.getloadavg(),
               "errors": [l for l in out.splitlines() if "ERROR" in l or "aborted" in l][:10]}
        shutil.rmtree(tmp, ignore_errors=True)
        print(render_load(res), flush=True)
        return res

    # -- main --------------------------------------------------------------
    def run(self):
        started = datetime.datetime.now(datetime.timezone.utc)
        load_before = os.getloadavg()
        self.setup()
        meta = machine_meta(self)
        meta.update({"scale": self.args.scale, "started": started.isoformat(timespec="seconds"),
                     "load_before": load_before})
        print(render_meta(meta), flush=True)
        for name in ("mates", "genome_index", "mates_batch", "pair_population", "lineage", "kinship", "compatibility",
                     "social", "names", "breed", "position"):
            if self.want(name):
                t0 = time.time()
                getattr(self, "w_" + name)()
                print("   (%s: %.0f s, load %.2f)\n" % (name, time.time() - t0, os.getloadavg()[0]), flush=True)
        load = self.load_test() if self.want("load") else None
        meta["load_after"] = os.getloadavg()
        meta["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return meta, load


def machine_meta(b):
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split()[1]
            mem = "%.1f GiB" % (int(mem) / 1048576.0)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory": mem,
        "cpu": cpu_model(),
        "pg_version": b.q1("SELECT version()"),
        "extension_version": b.q1("SELECT extversion FROM pg_extension WHERE extname = 'ecs_agents'"),
        "settings": dict(b.q("SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                             "('shared_buffers', 'work_mem', 'jit', 'max_parallel_workers_per_gather')")),
        "n": b.n, "generations": b.gens, "seed": b.seed, "fast_load": b.fast,
        "generation_seconds": b.gen_seconds,
        "generation_steps": [(s, round(t, 1), r) for s, t, r in b.gen_timing],
        "counts": b.counts,
    }


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------

def fmt_ms(v):
    if v is None:
        return "n/a"
    if v >= 100:
        return "%.0f" % v
    if v >= 1:
        return "%.1f" % v
    return "%.3f" % v


def fmt_rows(v):
    if v is None:
        return ""
    return "%.0f" % v if v >= 10 or v == int(v) else "%.1f" % v


def render_section(title, rows, notes):
    out = ["### " + title, "", "| query | calls | p50 ms | p95 ms | rows | vs baseline |",
           "|---|---:|---:|---:|---:|---|"]
    for label, r, base in rows:
        if r is None or not r.get("n"):
            out.append("| %s | | n/a | n/a | | |" % label)
            continue
        ratio = ""
        if base is not None and base.get("p50_ms") and r.get("p50_ms"):
            x = base["p50_ms"] / r["p50_ms"]
            ratio = ("%.0fx faster" % x if x >= 10 else "%.1fx faster" % x) if x >= 1 else "%.1fx slower" % (1 / x)
        extra = []
        if r.get("timeouts"):
            extra.append("%d timeouts" % r["timeouts"])
        if r.get("errors"):
            extra.append("errors %s" % r["errors"])
        p50 = fmt_ms(r["p50_ms"])
        p95 = fmt_ms(r["p95_ms"])
        if r.get("timeouts") and r["timeouts"] * 2 >= r["n"]:
            p50 = ">" + p50
        if r.get("timeouts"):
            p95 = ">" + p95
        out.append("| %s | %d | %s | %s | %s | %s |" % (label + (" (" + ", ".join(extra) + ")" if extra else ""),
                                                    r["n"], p50, p95, fmt_rows(r.get("rows")), ratio))
    for n in notes:
        if n:
            out.append("\n" + n)
    for label, r, base in rows:
        if r is not None and r.get("error_messages"):
            out.append("\nerrors of %s: %s" % (label, "; ".join(r["error_messages"])))
    return "\n".join(out) + "\n"


def render_meta(m):
    out = ["## ecs_agents benchmark, scale %s (%d agents, %d generations, seed %d)" % (m["scale"], m["n"], m["generations"], m["seed"]),
           "",
           "- machine: %s cores (%s), %s RAM; %s" % (m["nproc"], m["cpu"], m["memory"], m["pg_version"].split(" on ")[0]),
           "- settings: %s" % ", ".join("%s=%s" % kv for kv in sorted(m["settings"].items())),
           "- load average before the run: %s" % " ".join("%.2f" % x for x in m["load_before"]),
           "- data: %s" % ", ".join("%s %s" % (v, k) for k, v in m["counts"].items()),
           "- generated in %.0f s (%s), steps: %s" % (m["generation_seconds"] or 0,
                                                      "replica-mode load + bench.validate()" if m["fast_load"] else "through the triggers",
                                                      ", ".join("%s %.0f s" % (s, t) for s, t, r in m["generation_steps"])),
           ""]
    return "\n".join(out)


def render_load(r):
    out = ["### load test: pgbench, %d clients, %d s, mix of the backend's endpoints" % (r["clients"], r["duration_s"]), "",
           "| script | weight | transactions | p50 ms | p95 ms |", "|---|---:|---:|---:|---:|"]
    for s in r["per_script"]:
        out.append("| %s | %d | %d | %s | %s |" % (s["script"], s["weight"], s["count"], fmt_ms(s["p50_ms"]), fmt_ms(s["p95_ms"])))
    out.append("| **all** | | %d | %s | %s |" % (r["transactions"], fmt_ms(r["p50_ms"]), fmt_ms(r["p95_ms"])))
    out.append("")
    out.append("throughput %s tps; failed transactions: %s; client aborts: %d; pgbench exit code %d; load %s -> %s"
               % ("%.0f" % r["tps"] if r["tps"] else "n/a", r["failed"], r["client_aborts"], r["exit_code"],
                  "%.2f" % r["load_before"][0], "%.2f" % r["load_after"][0]))
    if r["errors"]:
        out.append("")
        out.append("errors: " + "; ".join(r["errors"]))
    out.append("\ninvalid-id calls go through bench.expect_error(), which catches 22023/P0002 only: "
               "any other error, or none, fails the transaction")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="?")
    ap.add_argument("--pgbench", default="pgbench")
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--reps", type=float, default=1.0)
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = ap.parse_args()
    b = Bench(args)
    meta, load = b.run()
    os.makedirs(args.out, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = os.path.join(args.out, "%s-%s" % (args.scale, stamp))
    with open(base + ".json", "w") as f:
        json.dump({"meta": meta, "results": b.results, "load_test": load}, f, indent=1, default=str)
    with open(base + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "query", "impl", "n", "p50_ms", "p95_ms", "rows", "timeouts", "errors", "baseline", "note"])
        for r in b.results:
            w.writerow([r["workload"], r["query"], r["impl"], r["n"], r["p50_ms"], r["p95_ms"], r["rows"],
                        r["timeouts"], json.dumps(r["errors"]), r["baseline"], r["note"]])
    with open(base + ".md", "w") as f:
        f.write(render_meta(meta) + "\n")
        for title, rows, notes in b.sections:
            f.write(render_section(title, rows, notes) + "\n")
        if load:
            f.write(render_load(load) + "\n")
        f.write("load average after the run: %s\n" % " ".join("%.2f" % x for x in meta["load_after"]))
    print("== results: %s.{json,csv,md}" % base)
    if load and (load["exit_code"] != 0 or load["client_aborts"]):
        print("== the load test had failures", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
