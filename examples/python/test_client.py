"""Driver-level tests of ecs_agents through examples/python/ecs_client.py.

Run by test/extra/client.sh against the `make test` cluster (PGHOST, PGPORT,
PGUSER, PGDATABASE in the environment).  It creates its own database
ecs_client (and role ecs_client_denied), so other suites are not disturbed,
and drops both at the end.  Checks:
  - result types as a driver sees them: float8 -> float, int -> int,
    text -> str, bool -> bool, real[] -> list of float, text[] arguments;
  - every SQLSTATE of SPEC section 6 is raised by a real call and mapped to
    its HTTP status, through the client and through the WSGI app;
  - 20 pooled connections in parallel give the same answers as one, with
    no error.
A check whose function is not installed yet is skipped with a message.
Ends with "N passed, N failed (N skipped)"; exits 1 when anything failed.
"""

import concurrent.futures
import io
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg  # noqa: E402

from ecs_client import EcsClient, EcsError, NotAvailable, http_status, make_app, to_ecs_error  # noqa: E402

DB = "ecs_client"
DENIED_ROLE = "ecs_client_denied"
RESULTS = {"passed": 0, "failed": 0, "skipped": 0}
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def run_checks():
    for fn in CHECKS:
        name = fn.__name__
        try:
            fn()
        except NotAvailable as e:
            RESULTS["skipped"] += 1
            print(f"skip  {name}: {e.function} does not exist yet")
        except Exception:  # noqa: BLE001 - report every failure and go on
            RESULTS["failed"] += 1
            print(f"FAIL  {name}")
            traceback.print_exc(file=sys.stdout)
        else:
            RESULTS["passed"] += 1
            print(f"ok    {name}")


def expect_error(status, sqlstate_prefix, fn, *args, **kwargs):
    """fn(*args) must raise EcsError with that HTTP status and SQLSTATE."""
    try:
        fn(*args, **kwargs)
    except NotAvailable:
        raise
    except EcsError as e:
        assert e.status == status, f"expected HTTP {status}, got {e.status} ({e.sqlstate}: {e.message})"
        assert e.sqlstate and e.sqlstate.startswith(sqlstate_prefix), \
            f"expected SQLSTATE {sqlstate_prefix}, got {e.sqlstate}: {e.message}"
        assert e.message, "error without a message"
        return e
    raise AssertionError(f"no error raised, expected SQLSTATE {sqlstate_prefix} / HTTP {status}")


# ---------------------------------------------------------------------------
# setup: a database with a small population over three generations
# ---------------------------------------------------------------------------

POPULATION_SQL = """
SELECT pg_catalog.count(*) FROM ecs_spawn(500, 42);   -- 1500 agents in all: more than 1024
-- generations 1 and 2, set-based: each female of the previous generation
-- with a male of it, two children per pair, genes from either parent
INSERT INTO ecs.agents (agent_id, name, sex, spirit_id, generation, parent1_id, parent2_id, genome)
SELECT 'agent' || pg_catalog.nextval('ecs.agent_number_seq'), NULL,
       CASE WHEN k = 1 THEN 'female' ELSE 'male' END, f.spirit_id, 1, f.agent_id, m.agent_id,
       ARRAY(SELECT CASE WHEN ecs_random(7, f.rn * 100 + k * 20 + t) < 0.5 THEN f.genome[t] ELSE m.genome[t] END
               FROM pg_catalog.generate_series(1, pg_catalog.cardinality(f.genome)) t ORDER BY t)
  FROM (SELECT a.*, pg_catalog.row_number() OVER (ORDER BY a.agent_id) rn
          FROM ecs.agents a WHERE a.generation = 0 AND a.sex = 'female') f
  JOIN (SELECT a.*, pg_catalog.row_number() OVER (ORDER BY a.agent_id) rn
          FROM ecs.agents a WHERE a.generation = 0 AND a.sex = 'male') m ON m.rn = f.rn
 CROSS JOIN pg_catalog.generate_series(1, 2) k
 ORDER BY f.rn, k;
INSERT INTO ecs.agents (agent_id, name, sex, spirit_id, generation, parent1_id, parent2_id, genome)
SELECT 'agent' || pg_catalog.nextval('ecs.agent_number_seq'), NULL,
       CASE WHEN k = 1 THEN 'female' ELSE 'male' END, f.spirit_id, 2, f.agent_id, m.agent_id,
       ARRAY(SELECT CASE WHEN ecs_random(8, f.rn * 100 + k * 20 + t) < 0.5 THEN f.genome[t] ELSE m.genome[t] END
               FROM pg_catalog.generate_series(1, pg_catalog.cardinality(f.genome)) t ORDER BY t)
  FROM (SELECT a.*, pg_catalog.row_number() OVER (ORDER BY a.agent_id) rn
          FROM ecs.agents a WHERE a.generation = 1 AND a.sex = 'female') f
  JOIN (SELECT a.*, pg_catalog.row_number() OVER (ORDER BY a.agent_id DESC) rn
          FROM ecs.agents a WHERE a.generation = 1 AND a.sex = 'male') m ON m.rn = f.rn
 CROSS JOIN pg_catalog.generate_series(1, 2) k
 ORDER BY f.rn, k;
-- positions for everyone but agent3
INSERT INTO ecs.agent_positions (agent_id, x, y)
SELECT a.agent_id, ecs_random(9, pg_catalog.hashtext(a.agent_id)) * 100,
       ecs_random(10, pg_catalog.hashtext(a.agent_id)) * 100
  FROM ecs.agents a WHERE a.agent_id <> 'agent3';
"""


def setup():
    with psycopg.connect(autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB}")
        admin.execute(f"DROP ROLE IF EXISTS {DENIED_ROLE}")
        admin.execute(f"CREATE ROLE {DENIED_ROLE} LOGIN")
    with psycopg.connect(dbname=DB, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION ecs_agents")
        conn.execute(POPULATION_SQL)
        # the social graph of agent1: 3 interactions it started, 1 it received
        for b, kind, outcome in (("agent2", "meet", 0.5), ("agent4", "fight", -0.75),
                                 ("agent2", "help", 1.0)):
            conn.execute("SELECT ecs_interact('agent1', %s, %s, %s)", (b, kind, outcome))
        conn.execute("SELECT ecs_interact('agent6', 'agent1', 'meet', 0.25)")
        conn.execute("SELECT ecs_relate('agent1', 'agent2', 'friend', 0.8)")
        conn.execute("SELECT ecs_relate('agent4', 'agent1', 'rival', -0.5)")
        n = conn.execute("SELECT pg_catalog.count(*) FROM ecs.agents").fetchone()[0]
        print(f"setup: database {DB} with {n} agents")


def teardown(clients):
    for c in clients:
        c.close()
    with psycopg.connect(autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"DROP ROLE IF EXISTS {DENIED_ROLE}")


CLIENT = None          # the pooled client all checks share (20 connections)
APP = None


def one(sql, params=()):
    return CLIENT.query(sql, params)[0]


def gen2_agent():
    return one("SELECT agent_id::text AS id FROM ecs.agents WHERE generation = 2 ORDER BY agent_id LIMIT 1")["id"]


def call_app(method, path, query="", body=None):
    data = json.dumps(body).encode() if body is not None else b""
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
               "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data)}
    status = []
    out = b"".join(APP(environ, lambda s, h: status.append(s)))
    return int(status[0].split()[0]), json.loads(out)


# ---------------------------------------------------------------------------
# result types
# ---------------------------------------------------------------------------

@check
def types_genome_is_list_of_float():
    row = one("SELECT agent_id::text AS id, genome, generation, active, sex FROM ecs.agents "
              "WHERE agent_id = 'agent1'")
    assert isinstance(row["id"], str) and row["id"] == "agent1"
    assert isinstance(row["genome"], list) and len(row["genome"]) == 16, row["genome"]
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in row["genome"])
    assert isinstance(row["generation"], int) and row["generation"] == 0
    assert row["active"] is True
    assert row["sex"] in ("female", "male")


@check
def types_spawn_returns_text_ids():
    rows = CLIENT.query("SELECT ecs_spawn AS id FROM ecs_spawn(2, 4242, 'wolf', 'pup')")
    assert [type(r["id"]) for r in rows] == [str, str]
    assert all(r["id"].startswith("pup") for r in rows)
    CLIENT.query("DELETE FROM ecs.agents WHERE agent_id = ANY (%s::text[])", ([r["id"] for r in rows],))


@check
def compatibility_is_float_and_symmetric():
    s1 = CLIENT.compatibility("agent1", "agent2")
    s2 = CLIENT.compatibility("agent2", "agent1")
    assert isinstance(s1, float) and 0.0 <= s1 <= 1.0, s1
    assert abs(s1 - s2) < 1e-12, (s1, s2)
    status, body = call_app("GET", "/compatibility", "a=agent1&b=agent2")
    assert status == 200 and abs(body["score"] - s1) < 1e-12, (status, body)


@check
def compatibility_explain_types():
    r = CLIENT.compatibility_explain("agent1", "agent2")
    for k in ("trait_score", "relatedness", "final_score"):
        assert isinstance(r[k], float), (k, r)
    assert isinstance(r["eligible"], bool), r
    assert r["reason"] is None or isinstance(r["reason"], str), r
    assert abs(r["final_score"] - CLIENT.compatibility("agent1", "agent2")) < 1e-9, r
    # an agent is never its own mate
    assert CLIENT.compatibility_explain("agent1", "agent1")["eligible"] is False


@check
def compatibility_batch_takes_text_arrays():
    a = ["agent1", "agent3", "agent5"]
    b = ["agent2", "agent4", "agent1"]
    rows = CLIENT.compatibility_batch(a, b)
    assert [(r["agent1_id"], r["agent2_id"]) for r in rows] == list(zip(a, b)), rows
    for r in rows:
        assert isinstance(r["score"], float)
        assert abs(r["score"] - CLIENT.compatibility(r["agent1_id"], r["agent2_id"])) < 1e-12, r
    assert CLIENT.compatibility_batch([], []) == []


@check
def find_mates_types_and_order():
    rows = CLIENT.find_mates("agent1", 5)
    assert 1 <= len(rows) <= 5, rows
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1)), rows
    for r in rows:
        assert isinstance(r["mate_id"], str) and r["mate_id"] != "agent1"
        assert isinstance(r["rank"], int)
        for k in ("score", "trait_score", "relatedness"):
            assert isinstance(r[k], float), (k, r)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True), scores
    # the scores are ecs_compatibility's
    for r in rows:
        assert abs(r["score"] - CLIENT.compatibility("agent1", r["mate_id"])) < 1e-9, r
    status, body = call_app("GET", "/agents/agent1/mates", "limit=5")
    assert status == 200 and [b["mate_id"] for b in body] == [r["mate_id"] for r in rows], body


@check
def find_mates_filters():
    rows = CLIENT.find_mates("agent1", 10, min_generation=1, max_generation=1)
    gens = {one("SELECT generation FROM ecs.agents WHERE agent_id = %s", (r["mate_id"],))["generation"]
            for r in rows}
    assert gens <= {1}, gens
    near = CLIENT.find_mates("agent1", 10, max_distance=1e9)
    assert len(near) >= 1


@check
def find_mates_batch_takes_text_array():
    ids = ["agent1", "agent2", gen2_agent()]
    rows = CLIENT.find_mates_batch(ids, 3)
    assert {r["agent_id"] for r in rows} == set(ids), rows
    for a in ids:
        single = [(r["mate_id"], round(r["score"], 9)) for r in CLIENT.find_mates(a, 3)]
        batch = [(r["mate_id"], round(r["score"], 9))
                 for r in sorted((r for r in rows if r["agent_id"] == a), key=lambda r: r["rank"])]
        assert single == batch, (a, single, batch)


@check
def lineage_types_and_self_row():
    child = gen2_agent()
    rows = CLIENT.lineage(child, 2, "ancestors")
    assert rows[0]["agent_id"] == child and rows[0]["depth"] == 0 and rows[0]["relation"] == "self", rows[0]
    assert all(isinstance(r["depth"], int) and isinstance(r["agent_id"], str) for r in rows)
    parents = one("SELECT parent1_id::text AS p1, parent2_id::text AS p2 FROM ecs.agents WHERE agent_id = %s",
                  (child,))
    depth1 = sorted(r["agent_id"] for r in rows if r["depth"] == 1)
    assert depth1 == sorted([parents["p1"], parents["p2"]]), (depth1, parents)
    assert max(r["depth"] for r in rows) == 2 and len(rows) == 7, rows
    status, body = call_app("GET", f"/agents/{child}/lineage", "depth=1")
    assert status == 200 and len(body) == 3, body


@check
def social_stats_counts():
    s = CLIENT.social_stats("agent1")
    assert s is not None
    ints = [v for k, v in s.items() if isinstance(v, int) and not isinstance(v, bool)]
    assert ints, s
    # 4 interactions (3 initiated, 1 received), outcomes 0.5, -0.75, 1.0, 0.25
    assert s["interactions"] == 4 and s["initiated"] == 3 and s["received"] == 1, s
    assert s["distinct_partners"] == 3 and s["positive"] == 3 and s["negative"] == 1, s
    assert isinstance(s["mean_outcome"], float) and abs(s["mean_outcome"] - 0.25) < 1e-9, s
    assert s["relationships"] == 2 and isinstance(s["mean_strength"], float), s
    assert abs(s["mean_strength"] - 0.15) < 1e-9, s
    assert s["relationships_by_kind"] == {"friend": 1, "rival": 1}, s       # jsonb -> dict
    assert hasattr(s["last_interaction_at"], "isoformat"), s                # timestamptz -> datetime
    # a window after every interaction: nothing counted
    later = CLIENT.social_stats("agent1", "infinity")
    assert later["interactions"] == 0 and later["mean_outcome"] is None, later
    status, body = call_app("GET", "/agents/agent1/social")
    assert status == 200, (status, body)


@check
def spirits_enabled_only():
    rows = CLIENT.spirits()
    ids = [r["spirit_id"] for r in rows]
    assert "wolf" in ids and "phoenix" not in ids, ids
    assert all(isinstance(r["display_name"], str) for r in rows)


@check
def generate_name_deterministic():
    n1 = CLIENT.generate_name("wolf", 7)
    n2 = CLIENT.generate_name("wolf", 7)
    assert isinstance(n1, str) and n1 == n2 and "Wolf" in n1, (n1, n2)
    status, body = call_app("GET", "/names", "spirit=wolf&seed=7")
    assert status == 200 and body["name"] == n1, body


@check
def position_types():
    p = CLIENT.position("agent1")
    assert isinstance(p["x"], float) and isinstance(p["y"], float), p
    p3 = CLIENT.position("agent3")          # exists, without a position
    assert p3 is not None and p3["x"] is None and p3["y"] is None, p3
    near = CLIENT.agents_near("agent1", 1000.0, 5)
    assert 1 <= len(near) <= 5, near


@check
def breed_returns_child_id():
    pair = CLIENT.find_mates("agent1", 1)[0]["mate_id"]
    child = CLIENT.breed("agent1", pair, None, 99)
    assert isinstance(child, str), child
    row = one("SELECT generation, parent1_id::text AS p1, parent2_id::text AS p2 FROM ecs.agents "
              "WHERE agent_id = %s", (child,))
    assert {row["p1"], row["p2"]} == {"agent1", pair}, row
    CLIENT.query("DELETE FROM ecs.agents WHERE agent_id = %s", (child,))


# ---------------------------------------------------------------------------
# errors: every SQLSTATE of SPEC section 6, mapped to its HTTP status
# ---------------------------------------------------------------------------

@check
def mapping_table():
    assert http_status("22023") == 400 and http_status("P0002") == 404
    assert http_status("55000") == 409 and http_status("54000") == 422
    assert http_status("22000") == 422 and http_status("42501") == 403
    assert http_status("23505") == 409 and http_status("23503") == 409 and http_status("23514") == 409
    assert http_status("57014") == 503 and http_status("40001") == 503
    assert http_status("XX000") == 500 and http_status(None) == 500


@check
def error_400_malformed_id():
    e = expect_error(400, "22023", CLIENT.lineage, "bad id!", 1)
    assert "bad id!" in e.message, e.message
    status, body = call_app("GET", "/agents/bad%20id!/lineage")
    assert status == 400 and body["sqlstate"] == "22023", body


@check
def null_arguments_documented_behaviour():
    # strict readers: NULL in, NULL / no rows out (docs/reference.md)
    assert CLIENT.lineage(None, 1) == []
    assert CLIENT.compatibility(None, "agent1") is None
    # ecs_find_mates is not strict (NULL filters are off): a NULL agent gives no rows
    assert CLIENT.find_mates(None, 5) == []
    assert len(CLIENT.find_mates("agent1", 5, None, None, None, None)) == 5


@check
def error_400_max_distance_without_position():
    e = expect_error(400, "22023", CLIENT.find_mates, "agent3", 5, max_distance=10.0)
    assert "position" in e.message, e.message
    expect_error(400, "22023", CLIENT.find_mates, "agent1", 5, max_distance=-1.0)


@check
def error_400_lineage_direction_and_depth():
    expect_error(400, "22023", CLIENT.lineage, "agent1", 1, "sideways")
    expect_error(400, "22023", CLIENT.lineage, "agent1", -1)
    expect_error(400, "22023", CLIENT.lineage, "agent1", 1000000)


@check
def error_400_max_results():
    expect_error(400, "22023", CLIENT.find_mates, "agent1", 0)
    expect_error(400, "22023", CLIENT.find_mates, "agent1", 51)


@check
def error_400_batch_arrays():
    expect_error(400, "22023", CLIENT.compatibility_batch, ["agent1", "agent2"], ["agent3"])
    expect_error(400, "22023", CLIENT.compatibility_batch, ["agent1", None], ["agent3", "agent4"])
    expect_error(400, "22023", CLIENT.find_mates_batch, ["agent1", None], 3)


@check
def error_404_unknown_agent():
    expect_error(404, "P0002", CLIENT.lineage, "nobody_here", 1)
    expect_error(404, "P0002", CLIENT.compatibility, "agent1", "nobody_here")
    status, body = call_app("GET", "/agents/nobody_here/mates")
    assert status in (404, 501), (status, body)
    if status == 404:
        assert body["sqlstate"] == "P0002", body


@check
def error_404_unknown_spirit():
    expect_error(404, "P0002", CLIENT.generate_name, "dragon", 1)


@check
def error_409_disabled_spirit():
    e = expect_error(409, "55000", CLIENT.generate_name, "phoenix", 1)
    assert e.hint, "the hint should list the enabled spirits"
    status, body = call_app("GET", "/names", "spirit=phoenix&seed=1")
    assert status == 409 and body["sqlstate"] == "55000", body


@check
def error_409_ineligible_parents():
    expect_error(409, "55000", CLIENT.breed, "agent1", "agent1", None, 1)


@check
def error_409_constraint_violation():
    e = expect_error(409, "23", CLIENT.query,
                     "INSERT INTO ecs.agents (agent_id, genome) SELECT 'agent1', genome FROM ecs.agents "
                     "WHERE agent_id = 'agent1'")
    assert e.sqlstate == "23505", e.sqlstate
    if CLIENT.available("ecs_breed"):
        mate = CLIENT.find_mates("agent1", 1)[0]["mate_id"]
        taken = "agent3" if mate != "agent3" else "agent5"
        before = CLIENT.query("SELECT pg_catalog.count(*) AS n FROM ecs.agents")[0]["n"]
        status, body = call_app("POST", "/breed", body={"parent1": "agent1", "parent2": mate,
                                                       "child_id": taken, "seed": 1})
        assert status == 409 and body["sqlstate"] == "23505", body
        assert CLIENT.query("SELECT pg_catalog.count(*) AS n FROM ecs.agents")[0]["n"] == before, \
            "a failed breed left a row behind"
        # a parent's id as the child's: 22023
        status, body = call_app("POST", "/breed", body={"parent1": "agent1", "parent2": mate,
                                                       "child_id": mate, "seed": 1})
        assert status == 400 and body["sqlstate"] == "22023", body


@check
def error_422_walk_limit():
    limited = EcsClient(f"dbname={DB}", min_size=1, max_size=1,
                        settings={"ecs_agents.max_lineage_nodes": "2"})
    try:
        expect_error(422, "54000", limited.lineage, gen2_agent(), 3, "ancestors")
        assert len(limited.lineage("agent1", 0)) == 1          # the start agent alone fits
    finally:
        limited.close()


@check
def error_503_statement_timeout():
    # a service role's statement_timeout stops a long call (57014)
    CLIENT._need("ecs_pair_population")
    hurried = EcsClient(f"dbname={DB}", min_size=1, max_size=1, settings={"statement_timeout": "5"})
    try:
        expect_error(503, "57014", hurried.query, "SELECT pg_catalog.count(*) FROM ecs_pair_population()")
    finally:
        hurried.close()


@check
def error_422_pedigree_cycle():
    # a cycle written with the trigger off (bad data); inside a transaction
    # that is rolled back, so the population stays clean
    CLIENT._need("ecs_kinship")
    with psycopg.connect(dbname=DB) as conn:
        try:
            conn.execute("ALTER TABLE ecs.agents DISABLE TRIGGER agents_after_reparent")
            conn.execute("UPDATE ecs.agents SET parent1_id = 'agent60' WHERE agent_id = 'agent1'")
            conn.execute("UPDATE ecs.agents SET parent1_id = 'agent1' WHERE agent_id = 'agent60'")
            conn.execute("SELECT ecs_kinship('agent1', 'agent2')")
        except psycopg.Error as exc:
            err = to_ecs_error(exc)
            assert err.sqlstate == "22000" and err.status == 422, (err.sqlstate, err.message)
        else:
            raise AssertionError("a pedigree cycle raised no error")
        finally:
            conn.rollback()


@check
def error_403_no_privilege():
    denied = EcsClient(f"dbname={DB} user={DENIED_ROLE}", min_size=1, max_size=1)
    try:
        e = expect_error(403, "42501", denied.lineage, "agent1", 1)
        assert "permission denied" in e.message, e.message
        expect_error(403, "42501", denied.generate_name, "wolf", 1)
        if denied.available("ecs_find_mates"):
            expect_error(403, "42501", denied.find_mates, "agent1", 5)
    finally:
        denied.close()


# ---------------------------------------------------------------------------
# 20 pooled connections in parallel
# ---------------------------------------------------------------------------

@check
def parallel_20_connections():
    agents = [r["id"] for r in CLIENT.query(
        "SELECT agent_id::text AS id FROM ecs.agents WHERE active ORDER BY agent_id LIMIT 40")]

    def work(a):
        out = [tuple(sorted((r["agent_id"], r["depth"]) for r in CLIENT.lineage(a, 3, "both")))]
        if CLIENT.available("ecs_find_mates"):
            out.append(tuple((r["mate_id"], round(r["score"], 9)) for r in CLIENT.find_mates(a, 5)))
        if CLIENT.available("ecs_compatibility"):
            out.append(round(CLIENT.compatibility(a, "agent1"), 9) if a != "agent1" else None)
        if CLIENT.available("ecs_social_stats"):
            out.append(CLIENT.social_stats(a) is not None)
        return a, out

    expected = dict(work(a) for a in agents)
    jobs = agents * 5
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(work, jobs))
    assert len(results) == len(jobs)
    for a, out in results:
        assert out == expected[a], (a, out, expected[a])
    stats = CLIENT.pool.get_stats()
    assert stats.get("connections_errors", 0) == 0, stats
    assert CLIENT.pool.get_stats().get("pool_size", 0) <= 20


def main():
    global CLIENT, APP
    setup()
    CLIENT = EcsClient(f"dbname={DB}", min_size=20, max_size=20)
    CLIENT.pool.wait(timeout=30)
    APP = make_app(CLIENT)
    try:
        run_checks()
    finally:
        teardown([CLIENT])
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed ({RESULTS['skipped']} skipped)")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
