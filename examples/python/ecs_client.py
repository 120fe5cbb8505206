"""ecs_client — a small application backend for ecs_agents (psycopg 3).

What the original FastAPI backend did with row pulls, Python scoring,
recursive CTEs and a Redis cache, here each endpoint is one SQL call:

    endpoint                              SQL
    GET  /agents/{id}/mates               ecs_find_mates(...)
    GET  /compatibility?a=..&b=..         ecs_compatibility(a, b) / ecs_compatibility_explain(a, b)
    (client only)                         ecs_compatibility_batch(a[], b[]), ecs_find_mates_batch(ids[], k)
    GET  /agents/{id}/social              ecs_social_stats(agent_id, since)
    GET  /agents/{id}/lineage             ecs_lineage(agent_id, max_depth, direction)
    GET  /spirits                         ecs_naming_spirits() (or the ecs.naming_spirits table)
    GET  /names?spirit=..&seed=..         ecs_generate_name(spirit, seed)
    GET  /agents/{id}/position            ecs_agent_position(agent_id)
    GET  /agents/{id}/near?radius=..      ecs_agents_near(agent_id, radius, max_results)
    POST /breed                           ecs_breed(parent1, parent2, child_id, seed)

Errors: the extension raises documented SQLSTATEs (SPEC section 6) and this
module maps them to HTTP statuses in one place, http_status():

    22023 invalid_parameter_value          400
    P0002 no_data_found                    404
    55000 object_not_in_prerequisite_state 409
    54000 program_limit_exceeded           422
    22000 data_exception (pedigree cycle)  422
    42501 insufficient_privilege           403
    23xxx integrity constraint violation   409
    57014, 40001, 40P01 (timeout, retry)   503
    anything else                          500

Usage:

    from ecs_client import EcsClient, make_app
    client = EcsClient("dbname=game", max_size=20)
    client.find_mates("agent1", 5)
    # or serve it:  python3 -m wsgiref.simple_server ... / any WSGI server
    app = make_app(client)

Only the Python standard library and psycopg 3 (+ psycopg_pool) are used:
Debian packages python3-psycopg and python3-psycopg-pool.
"""

from __future__ import annotations

import json
import re
import urllib.parse

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

__all__ = ["EcsClient", "EcsError", "NotAvailable", "http_status", "to_ecs_error", "make_app"]

# SQLSTATE -> HTTP status (SPEC section 6).  Class 23 is matched by prefix.
SQLSTATE_TO_HTTP = {
    "22023": 400,  # invalid_parameter_value: malformed id, bad range, bad direction
    "P0002": 404,  # no_data_found: unknown agent or spirit
    "55000": 409,  # object_not_in_prerequisite_state: disabled spirit, ineligible parents
    "54000": 422,  # program_limit_exceeded: walk over ecs_agents.max_lineage_nodes
    "22000": 422,  # data_exception: pedigree cycle (bad data)
    "42501": 403,  # insufficient_privilege: the caller may not read the tables
}


def http_status(sqlstate: str | None) -> int:
    """HTTP status for a SQLSTATE; 500 for anything not in the contract."""
    if sqlstate is None:
        return 500
    if sqlstate in SQLSTATE_TO_HTTP:
        return SQLSTATE_TO_HTTP[sqlstate]
    if sqlstate.startswith("23"):  # integrity_constraint_violation class
        return 409
    if sqlstate in ("57014", "40001", "40P01"):  # timeout/cancel, serialization, deadlock: retry
        return 503
    return 500


class EcsError(Exception):
    """A failed call, with the HTTP status a web backend answers with."""

    def __init__(self, status, message, sqlstate=None, detail=None, hint=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint

    def as_json(self):
        body = {"error": self.message, "status": self.status}
        for k in ("sqlstate", "detail", "hint"):
            v = getattr(self, k)
            if v is not None:
                body[k] = v
        return body


class NotAvailable(EcsError):
    """The installed ecs_agents has no such function (older version)."""

    def __init__(self, function):
        super().__init__(501, f"function {function} is not available in this ecs_agents installation")
        self.function = function


def to_ecs_error(exc: psycopg.Error) -> EcsError:
    """Map a psycopg error to an EcsError carrying the HTTP status."""
    diag = exc.diag
    sqlstate = exc.sqlstate or diag.sqlstate
    return EcsError(http_status(sqlstate),
                    diag.message_primary or str(exc),
                    sqlstate, diag.message_detail, diag.message_hint)


class EcsClient:
    """Endpoints of the original backend, each one round trip to PostgreSQL.

    dsn:      libpq connection string ("" = PG* environment variables).
    min_size, max_size: connection pool bounds.
    settings: ecs_agents.* (or any) settings for every pooled connection,
              e.g. {"ecs_agents.kinship_penalty": "0.5"}; applied with
              set_config(), values are never spliced into SQL.

    Connections are in autocommit mode: every endpoint is a single statement.
    """

    def __init__(self, dsn="", min_size=1, max_size=10, settings=None, timeout=30.0):
        self.settings = dict(settings or {})
        self._available = None
        self.pool = ConnectionPool(dsn, min_size=min_size, max_size=max_size,
                                   kwargs={"autocommit": True, "row_factory": dict_row},
                                   configure=self._configure, timeout=timeout, open=True)

    def _configure(self, conn):
        for name, value in self.settings.items():
            conn.execute("SELECT pg_catalog.set_config(%s, %s, false)", (name, str(value)))

    def close(self):
        self.pool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- plumbing ---------------------------------------------------------

    def query(self, sql, params=()):
        """Run one statement, return its rows as dicts; errors become EcsError."""
        try:
            with self.pool.connection() as conn:
                cur = conn.execute(sql, params)
                return cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            raise to_ecs_error(exc) from exc

    def available(self, function):
        """Whether a function of that name is visible on the search_path."""
        if self._available is None:
            rows = self.query("""
                SELECT DISTINCT p.proname::text AS name
                  FROM pg_catalog.pg_proc p
                 WHERE pg_catalog.left(p.proname::text, 4) = 'ecs_'
                   AND pg_catalog.pg_function_is_visible(p.oid)""")
            self._available = {r["name"] for r in rows}
        return function in self._available

    def _need(self, function):
        if not self.available(function):
            raise NotAvailable(function)

    # -- endpoints --------------------------------------------------------

    def find_mates(self, agent_id, max_results=5, min_generation=None, max_generation=None,
                   exclude_mated=False, max_distance=None):
        """Top-k eligible mates: list of {mate_id, score, trait_score, relatedness, rank}."""
        self._need("ecs_find_mates")
        return self.query(
            "SELECT * FROM ecs_find_mates(%s::text, %s::int4, %s::int4, %s::int4, %s::bool, %s::float8)",
            (agent_id, max_results, min_generation, max_generation, exclude_mated, max_distance))

    def find_mates_batch(self, agent_ids, max_results=5):
        """Top-k mates of many agents in one call: list of {agent_id, mate_id, score, rank}."""
        self._need("ecs_find_mates_batch")
        return self.query("SELECT * FROM ecs_find_mates_batch(%s::text[], %s::int4)",
                          (list(agent_ids), max_results))

    def compatibility(self, a, b):
        """Final compatibility score of a and b (float in [0, 1])."""
        self._need("ecs_compatibility")
        return self.query("SELECT ecs_compatibility(%s::text, %s::text) AS score", (a, b))[0]["score"]

    def compatibility_explain(self, a, b):
        """{trait_score, relatedness, final_score, eligible, reason}."""
        self._need("ecs_compatibility_explain")
        return self.query("SELECT * FROM ecs_compatibility_explain(%s::text, %s::text)", (a, b))[0]

    def compatibility_batch(self, a_ids, b_ids):
        """Scores of the pairs (a_ids[i], b_ids[i]): list of {agent1_id, agent2_id, score}."""
        self._need("ecs_compatibility_batch")
        return self.query("SELECT * FROM ecs_compatibility_batch(%s::text[], %s::text[])",
                          (list(a_ids), list(b_ids)))

    def social_stats(self, agent_id, since=None):
        """Interaction and relationship statistics of one agent (one dict)."""
        self._need("ecs_social_stats")
        if since is None:
            rows = self.query("SELECT * FROM ecs_social_stats(%s::text)", (agent_id,))
        else:
            rows = self.query("SELECT * FROM ecs_social_stats(%s::text, %s::timestamptz)", (agent_id, since))
        return rows[0] if rows else None

    def lineage(self, agent_id, max_depth=3, direction="ancestors"):
        """The agent (depth 0) and its relatives, ordered by depth then id."""
        self._need("ecs_lineage")
        return self.query(
            "SELECT * FROM ecs_lineage(%s::text, %s::int4, %s::text) ORDER BY depth, agent_id",
            (agent_id, max_depth, direction))

    def spirits(self):
        """Enabled naming spirits."""
        if self.available("ecs_naming_spirits"):
            return self.query("SELECT * FROM ecs_naming_spirits() ORDER BY 1")
        return self.query("SELECT spirit_id, display_name FROM ecs.naming_spirits "
                          "WHERE enabled ORDER BY spirit_id")

    def generate_name(self, spirit, seed=None):
        """A name for the spirit; the same seed gives the same name."""
        self._need("ecs_generate_name")
        return self.query("SELECT ecs_generate_name(%s::text, %s::int8) AS name", (spirit, seed))[0]["name"]

    def position(self, agent_id):
        """{agent_id, x, y}; x and y are None when the agent has no position."""
        self._need("ecs_agent_position")
        rows = self.query("SELECT * FROM ecs_agent_position(%s::text)", (agent_id,))
        return rows[0] if rows else None

    def agents_near(self, agent_id, radius, max_results=10):
        """Agents within radius of the agent, nearest first."""
        self._need("ecs_agents_near")
        return self.query("SELECT * FROM ecs_agents_near(%s::text, %s::float8, %s::int4)",
                          (agent_id, radius, max_results))

    def breed(self, parent1, parent2, child_id=None, seed=None):
        """Breeds a child of two eligible parents; returns the child's id."""
        self._need("ecs_breed")
        return self.query("SELECT ecs_breed(%s::text, %s::text, %s::text, %s::int8) AS child_id",
                          (parent1, parent2, child_id, seed))[0]["child_id"]


# ---------------------------------------------------------------------------
# A WSGI application over the client (stdlib only): the HTTP face of the
# backend.  Serve it with wsgiref for a try-out:
#   python3 -c 'from wsgiref.simple_server import make_server; import ecs_client as e; \
#               make_server("", 8000, e.make_app(e.EcsClient())).serve_forever()'
# ---------------------------------------------------------------------------

_ROUTES = [
    ("GET", re.compile(r"^/agents/([^/]+)/mates$"), "mates"),
    ("GET", re.compile(r"^/agents/([^/]+)/social$"), "social"),
    ("GET", re.compile(r"^/agents/([^/]+)/lineage$"), "lineage"),
    ("GET", re.compile(r"^/agents/([^/]+)/position$"), "position"),
    ("GET", re.compile(r"^/agents/([^/]+)/near$"), "near"),
    ("GET", re.compile(r"^/compatibility$"), "compatibility"),
    ("GET", re.compile(r"^/spirits$"), "spirits"),
    ("GET", re.compile(r"^/names$"), "names"),
    ("POST", re.compile(r"^/breed$"), "breed"),
]


def _arg(q, name, conv=str, default=None):
    if name not in q:
        return default
    try:
        return conv(q[name][-1])
    except ValueError:
        raise EcsError(400, f'invalid value for query parameter "{name}"') from None


def _bool(s):
    if s.lower() in ("1", "true", "yes", "on"):
        return True
    if s.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(s)


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def make_app(client: EcsClient):
    """WSGI app: JSON in, JSON out; SQLSTATEs become HTTP statuses."""

    def handle(name, ident, q, body):
        if name == "mates":
            return client.find_mates(ident, _arg(q, "limit", int, 5), _arg(q, "min_generation", int),
                                     _arg(q, "max_generation", int), _arg(q, "exclude_mated", _bool, False),
                                     _arg(q, "max_distance", float))
        if name == "social":
            return client.social_stats(ident, _arg(q, "since"))
        if name == "lineage":
            return client.lineage(ident, _arg(q, "depth", int, 3), _arg(q, "direction", str, "ancestors"))
        if name == "position":
            return client.position(ident)
        if name == "near":
            return client.agents_near(ident, _arg(q, "radius", float, 10.0), _arg(q, "limit", int, 10))
        if name == "compatibility":
            a, b = _arg(q, "a"), _arg(q, "b")
            if _arg(q, "explain", _bool, False):
                return client.compatibility_explain(a, b)
            return {"a": a, "b": b, "score": client.compatibility(a, b)}
        if name == "spirits":
            return client.spirits()
        if name == "names":
            return {"name": client.generate_name(_arg(q, "spirit"), _arg(q, "seed", int))}
        if name == "breed":
            return {"child_id": client.breed(body.get("parent1"), body.get("parent2"),
                                             body.get("child_id"), body.get("seed"))}
        raise EcsError(404, "no such endpoint")

    def app(environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        status, payload = 404, {"error": "no such endpoint", "status": 404}
        for m, rx, name in _ROUTES:
            match = rx.match(path)
            if match and m == method:
                try:
                    body = {}
                    if method == "POST":
                        size = int(environ.get("CONTENT_LENGTH") or 0)
                        body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                    ident = urllib.parse.unquote(match.group(1)) if match.groups() else None
                    status, payload = 200, _jsonable(handle(name, ident, q, body))
                except EcsError as e:
                    status, payload = e.status, e.as_json()
                except (ValueError, AttributeError):
                    status, payload = 400, {"error": "invalid request body", "status": 400}
                break
        data = json.dumps(payload).encode()
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
                  409: "Conflict", 422: "Unprocessable Entity", 501: "Not Implemented",
                  503: "Service Unavailable"}.get(status, "Internal Server Error")
        start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(data)))])
        return [data]

    return app
