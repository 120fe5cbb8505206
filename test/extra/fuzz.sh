#!/usr/bin/env bash
# test/extra/fuzz.sh — fuzzing, run by `make test` against the running cluster
# (PGHOST/PGPORT/PGUSER set by test/run-tests.sh; ECS_TMP/server.log is its log).
#
#   1. a small populated database (test/fuzz/populate.sql)
#   2. the targeted fuzzer (test/fuzz/ecs_fuzz.py): every ecs_* function found
#      in pg_proc, called with random and hostile arguments; each call must
#      return or raise a SQLSTATE of SPEC section 6
#      (as the superuser, then as a non-superuser under row-level security,
#      where no result may contain an agent the policy hides)
#   3. sqlsmith: random SQL over the database as that non-superuser role
#   4. the server must still answer, and its log must show no crashed backend
#
# Knobs: ECS_FUZZ_SEED (default 1, so a run can be repeated), ECS_FUZZ_CALLS
# (calls per function, default 150), ECS_SQLSMITH_QUERIES (default 2000).
# Exit 0 when everything passed.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
db=ecs_fuzz
seed=${ECS_FUZZ_SEED:-1}
calls=${ECS_FUZZ_CALLS:-150}
queries=${ECS_SQLSMITH_QUERIES:-2000}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
log=${ECS_TMP:-}/server.log
log_start=0
[ -f "$log" ] && log_start=$(wc -c <"$log")
status=0

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$here/test/fuzz/populate.sql" >/dev/null
echo "== populated $db: $(psql -X -At -d "$db" -c 'SELECT count(*) FROM ecs.agents') agents"

echo "== targeted fuzzer (seed $seed, $calls calls per function)"
if ! "$PY" "$here/test/fuzz/ecs_fuzz.py" --dsn "host=$PGHOST port=$PGPORT user=$PGUSER dbname=$db" \
        --seed "$seed" --calls-per-function "$calls" --timeout-ms 3000 --max-seconds 150; then
    echo "FAILED: targeted fuzzer"
    status=1
fi

echo "== targeted fuzzer under row-level security (role ecs_fuzzer; hidden agents must never come back)"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
ALTER TABLE ecs.agents ENABLE ROW LEVEL SECURITY;
CREATE POLICY fuzz_hide ON ecs.agents FOR SELECT TO ecs_fuzzer
    USING (agent_id::text !~ '^g2' AND agent_id::text !~ '7$');
CREATE POLICY fuzz_insert ON ecs.agents FOR INSERT TO ecs_fuzzer WITH CHECK (true);
CREATE POLICY fuzz_update ON ecs.agents FOR UPDATE TO ecs_fuzzer USING (true);
CREATE POLICY fuzz_delete ON ecs.agents FOR DELETE TO ecs_fuzzer USING (true);
SQL
hidden=$(mktemp)
psql -X -At -d "$db" -c "SELECT agent_id FROM ecs.agents WHERE agent_id::text ~ '^g2' OR agent_id::text ~ '7\$'" >"$hidden"
if ! "$PY" "$here/test/fuzz/ecs_fuzz.py" --dsn "host=$PGHOST port=$PGPORT user=ecs_fuzzer dbname=$db" \
        --seed "$seed" --calls-per-function "$((calls * 2 / 3))" --timeout-ms 3000 --max-seconds 100 \
        --hidden-ids "$hidden"; then
    echo "FAILED: targeted fuzzer under row-level security"
    status=1
fi
rm -f "$hidden"

echo "== sqlsmith (seed $seed, $queries queries, as role ecs_fuzzer, under the same policies)"
if command -v sqlsmith >/dev/null; then
    smith_out=$(mktemp)
    set +e
    timeout 180 sqlsmith --target="host=$PGHOST port=$PGPORT dbname=$db user=ecs_fuzzer" \
        --seed="$seed" --max-queries="$queries" --exclude-catalog --verbose >"$smith_out" 2>&1
    rc=$?
    set -e
    grep -E '^queries: ' "$smith_out" | tail -n 1 || true
    grep -E '^[0-9]+	ERROR' "$smith_out" | head -n 15 || true
    if grep -q -i -E 'server closed the connection|terminating connection|connection to server .* failed|broken' "$smith_out"; then
        echo "FAILED: sqlsmith lost its connection (a backend crashed?)"
        grep -i -E -B2 -A5 'server closed the connection|terminating connection|broken' "$smith_out" | head -n 40
        status=1
    elif [ $rc -ne 0 ] && [ $rc -ne 124 ]; then
        echo "FAILED: sqlsmith exited with $rc"
        tail -n 20 "$smith_out"
        status=1
    fi
    rm -f "$smith_out"
else
    echo "sqlsmith not installed (apt-get install sqlsmith); skipped"
fi

echo "== the server survived"
if ! psql -X -At -d "$db" -c 'SELECT 1' >/dev/null; then
    echo "FAILED: the server does not answer after fuzzing"
    status=1
fi
if [ -f "$log" ]; then
    if tail -c +"$((log_start + 1))" "$log" | grep -E 'server process .* was terminated by signal|PANIC'; then
        echo "FAILED: the server log shows a crashed backend"
        status=1
    else
        echo "server log: no crashed backend"
    fi
fi
# the fuzzed data still satisfies the table invariants
bad=$(psql -X -At -d "$db" -c "
    SELECT count(*) FROM ecs.agents
     WHERE array_length(genome, 1) IS DISTINCT FROM (SELECT count(*) FROM ecs.trait_catalog)
        OR parent1_id = agent_id OR parent2_id = agent_id OR parent1_id = parent2_id")
if [ "$bad" != 0 ]; then
    echo "FAILED: $bad agents break the table invariants after fuzzing"
    status=1
fi

psql -X -q -d postgres -c "DROP DATABASE $db" || true
exit $status
