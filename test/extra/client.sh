#!/usr/bin/env bash
# test/extra/client.sh — driver-level tests: examples/python/test_client.py
# (psycopg 3 + psycopg_pool, Debian python3-psycopg python3-psycopg-pool)
# against the running `make test` cluster.  Run by test/run-tests.sh with
# PGHOST PGPORT PGUSER PGDATABASE set; exits 0 when every check passed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# the Debian interpreter: the packages above install into its dist-packages
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if ! "$py" -c 'import psycopg, psycopg_pool' 2>/dev/null; then
    echo "client: psycopg 3 is missing; install python3-psycopg python3-psycopg-pool" >&2
    exit 1
fi
: "${PGHOST:?}" "${PGPORT:?}" "${PGUSER:?}"
export PGDATABASE=${PGDATABASE:-postgres}
exec "$py" -B "$root/examples/python/test_client.py"
