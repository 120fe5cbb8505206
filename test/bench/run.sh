#!/usr/bin/env bash
# test/bench/run.sh [SCALE] — the benchmark (`make bench SCALE=10k|100k|1m`).
#
# Builds and installs the extension into a throwaway copy of the server, starts
# a throwaway cluster (test/lib/cluster.sh), generates a population
# (generate.sql), builds the baselines (baselines.sql) and runs every workload
# and the pgbench load test (bench.py).  Results: test/bench/results/.
#
# SCALE: 10k, 100k (default), 1m, or a number of agents (a multiple of the
# generation count).  Environment:
#   ECS_BENCH_EXISTING=1   use the cluster of PGHOST/PGPORT/PGUSER instead of a
#                          throwaway one (the extension must be installed there);
#                          database ECS_BENCH_DB (default ecs_bench) is created
#                          if missing, and its ecs_agents data is replaced unless
#                          it already holds the same population (same n, seed)
#   ECS_BENCH_GENS=50      generations
#   ECS_BENCH_SEED=42      generator seed
#   ECS_BENCH_SAFE_LOAD=0  1 = load through the row trigger and foreign keys;
#                          0 = load with session_replication_role = replica,
#                          then validate the data with bench.validate()
#   ECS_BENCH_DURATION=60  pgbench duration in seconds (0 = skip the load test)
#   ECS_BENCH_CLIENTS=16   pgbench clients
#   ECS_BENCH_REPS=1       multiplier for the number of timed calls
#   ECS_BENCH_ONLY=...     comma-separated workloads to run (default: all)

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCALE=${1:-${SCALE:-100k}}
case "$SCALE" in
    10k|10K) N=10000 ;;
    100k|100K) N=100000 ;;
    1m|1M) N=1000000 ;;
    ''|*[!0-9]*) echo "usage: make bench SCALE=10k|100k|1m|<number of agents>" >&2; exit 2 ;;
    *) N=$SCALE ;;
esac
GENS=${ECS_BENCH_GENS:-50}
SEED=${ECS_BENCH_SEED:-42}
SAFE_LOAD=${ECS_BENCH_SAFE_LOAD:-0}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if [ "${ECS_BENCH_EXISTING:-0}" = 1 ] && [ -n "${PGHOST:-}" ]; then
    printf '== using the existing cluster at %s:%s\n' "$PGHOST" "${PGPORT:-5432}" >&2
    export PGDATABASE=${ECS_BENCH_DB:-ecs_bench}
    PSQL=${ECS_INST_BIN:+$ECS_INST_BIN/}psql
    command -v "$PSQL" >/dev/null || PSQL=psql
    if ! "$PSQL" -XAtq -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PGDATABASE'" | grep -q 1; then
        "$PSQL" -Xq -d postgres -c "CREATE DATABASE \"$PGDATABASE\""
    fi
    PGBENCH=${ECS_INST_BIN:+$ECS_INST_BIN/}pgbench
else
    # shellcheck source=../lib/cluster.sh
    source "$here/../lib/cluster.sh"
    ecs_build_deps
    ecs_make_tmp
    ecs_build_and_install
    ecs_cluster_start shared_buffers=1GB work_mem=64MB maintenance_work_mem=512MB \
        max_wal_size=8GB checkpoint_timeout=30min synchronous_commit=off
    PSQL=$ECS_INST_BIN/psql
    PGBENCH=$ECS_INST_BIN/pgbench
    export PGDATABASE=ecs_bench
    "$PSQL" -Xq -d postgres -c "CREATE DATABASE ecs_bench"
fi
command -v "$PGBENCH" >/dev/null || PGBENCH=pgbench

psql_run() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 "$@"; }

# same population already there?  (only possible on an existing cluster)
have=$("$PSQL" -XAtq -c "SELECT n || '/' || gens || '/' || seed FROM bench.params" 2>/dev/null || true)
if [ "$have" = "$N/$GENS/$SEED" ] && [ "${ECS_BENCH_REGEN:-0}" != 1 ]; then
    printf '== reusing the generated population (%s agents, seed %s)\n' "$N" "$SEED" >&2
    # earlier runs' rolled-back children (breeding) are dead rows near the
    # sampled agents' genomes: mate searches would step over them
    psql_run -c "VACUUM ecs.agents"
else
    printf '== generating %s agents in %s generations (seed %s)\n' "$N" "$GENS" "$SEED" >&2
    psql_run -c "DROP SCHEMA IF EXISTS bench CASCADE" -c "DROP EXTENSION IF EXISTS ecs_agents CASCADE" \
        -c "CREATE EXTENSION ecs_agents"
    psql_run -f "$here/generate.sql"
    start=$(date +%s.%N)
    # SAFE_LOAD=0: the row trigger and the foreign-key triggers are off during
    # the load; bench.validate() then checks what they would have checked
    role=""
    [ "$SAFE_LOAD" = 1 ] || role="SET session_replication_role = replica"
    psql_run -c "${role:-SELECT}" -c "CALL bench.generate($N, $GENS, $SEED)"
    # load: one worker per core (one when the triggers are on, so that
    # parents are written before their children), secondary indexes rebuilt
    # afterwards
    workers=$(nproc 2>/dev/null || echo 2)
    [ "$SAFE_LOAD" = 1 ] && workers=1
    psql_run -c "CALL bench.drop_indexes()"
    pids=()
    for ((w = 0; w < workers; w++)); do
        psql_run -c "${role:-SELECT}" -c "CALL bench.load($w, $workers)" \
            -c "CALL bench.generate_interactions($w, $workers)" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    psql_run -c "CALL bench.restore_indexes()"
    psql_run -c "SELECT setval('ecs.agent_interactions_interaction_id_seq', max(interaction_id)) FROM ecs.agent_interactions" >/dev/null
    [ "$SAFE_LOAD" = 1 ] || psql_run -At -c "SELECT bench.validate()" >&2
    psql_run -c "VACUUM (ANALYZE) ecs.agents, ecs.agent_positions, ecs.agent_relationships, ecs.agent_interactions"
    end=$(date +%s.%N)
    psql_run -c "UPDATE bench.params SET seconds = $end - $start"
    awk -v a="$start" -v b="$end" 'BEGIN { printf "== generated, validated and analyzed in %.1f s\n", b - a }' >&2
    printf '== building the baselines\n' >&2
    psql_run -f "$here/baselines.sql"
fi

mkdir -p "$here/results"
"$PY" "$here/bench.py" --scale "$SCALE" --pgbench "$PGBENCH" \
    --duration "${ECS_BENCH_DURATION:-60}" --clients "${ECS_BENCH_CLIENTS:-16}" \
    --reps "${ECS_BENCH_REPS:-1}" --only "${ECS_BENCH_ONLY:-}" --out "$here/results"
