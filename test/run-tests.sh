#!/usr/bin/env bash
# test/run-tests.sh — every test of ecs_agents, on a throwaway cluster (`make test`).
#
#   1. installs what it needs (root: apt-get; otherwise it says what to install)
#   2. builds, installs into a throwaway copy of the server, starts a cluster
#   3. make installcheck: pg_regress (sql/), isolation (test/isolation/), TAP (test/t/)
#   4. ../shared/contract-check.sql against a database with the extension
#   5. every test/extra/*.sh (fuzzing, driver-level client, ...) in name order
# Prints one line per suite and a closing "N passed, N failed" line; exits non-zero
# on any failure.  ECS_KEEP_TMP=1 keeps the temp dir (logs, diffs) for a post-mortem.
source "$(dirname "$0")/lib/cluster.sh"

ecs_build_deps
# TAP needs IPC::Run; the client test psycopg 3; the fuzz suite sqlsmith
ecs_need_packages libipc-run-perl python3-psycopg python3-psycopg-pool sqlsmith

ecs_make_tmp
ecs_build_and_install
ecs_cluster_start

passed=0
failed=0
failures=()
suite() {
    local name=$1; shift
    local start=$SECONDS
    if "$@" >"$ECS_TMP/suite-$name.log" 2>&1; then
        passed=$((passed + 1))
        printf 'ok      %-28s %4ss\n' "$name" $((SECONDS - start))
        # what ran: pg_regress / isolation totals, prove's summary, a suite's own total
        grep -E -a '^ *All [0-9]+ tests passed|^Files=|^Result: |^[0-9]+ passed, [0-9]+ failed' \
            "$ECS_TMP/suite-$name.log" | sed 's/^ */            /' || true
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf 'FAILED  %-28s %4ss\n' "$name" $((SECONDS - start))
        tail -n 80 "$ECS_TMP/suite-$name.log" | sed 's/^/    /'
    fi
}

# a copy of the tree owned by the cluster owner: TAP's clusters refuse root
mkdir -p "$ECS_TMP/src"
tar -C "$ECS_ROOT" --exclude=.git --exclude=results --exclude=tmp_check --exclude=output_iso -cf - . | tar -C "$ECS_TMP/src" -xf -
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$ECS_TMP/src"

installcheck() {
    cd "$ECS_TMP/src"
    if ! ecs_as_owner make -s installcheck PG_CONFIG="$ECS_INST_BIN/pg_config"; then
        for f in regression.diffs output_iso/regression.diffs; do
            [ -f "$f" ] && { echo "--- $f"; head -n 300 "$f"; }
        done
        ls tmp_check/log 2>/dev/null | head -20
        for f in tmp_check/log/regress_log_*; do
            [ -f "$f" ] && { echo "--- $f (tail)"; tail -n 40 "$f"; }
        done
        return 1
    fi
}
suite installcheck installcheck

contract() {
    local shared=${ECS_SHARED:-$ECS_ROOT/../shared}
    [ -f "$shared/contract-check.sql" ] || { echo "no $shared/contract-check.sql; skipped"; return 0; }
    psql -X -q -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS ecs_contract' -c 'CREATE DATABASE ecs_contract'
    psql -X -q -v ON_ERROR_STOP=1 -d ecs_contract -c 'CREATE EXTENSION ecs_agents'
    # Settings exist once the library is loaded (first ecs_* call of a session);
    # a DBA who wants them at session start preloads it, as here (README,
    # Configuration).
    PGOPTIONS="-c session_preload_libraries=ecs_agents" \
        psql -X -v ON_ERROR_STOP=1 -d ecs_contract -f "$shared/contract-check.sql" | tee "$ECS_TMP/contract.out"
    # Only functions of still-open issues may be missing; a missing column,
    # setting, parallel marking or dump registration fails the suite.
    if grep -v -E '^(contract: [0-9]+ missing|function not visible on the search_path: .*)$' "$ECS_TMP/contract.out" | grep -q .; then
        return 1
    fi
    tail -n 1 "$ECS_TMP/contract.out" | grep -q '^contract: 0 missing$' ||
        echo "(functions above belong to open issues)"
}
suite contract contract

for t in "$ECS_ROOT"/test/extra/*.sh; do
    [ -e "$t" ] || continue
    suite "$(basename "$t" .sh)" bash "$t"
done

if grep -q -E 'server process .* was terminated by signal|PANIC' "$ECS_TMP/server.log"; then
    failed=$((failed + 1)); failures+=("server-log")
    echo "FAILED  server log shows a crashed backend:"
    grep -E -B2 -A5 'terminated by signal|PANIC' "$ECS_TMP/server.log" | head -40
else
    passed=$((passed + 1))
    echo "ok      server-log (no crashed backend)"
fi

echo
[ $failed -gt 0 ] && echo "failed suites: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
