#!/usr/bin/env bash
# test/valgrind/run.sh — the regression suite with the server under valgrind
# (on demand; not part of `make test`: it takes tens of minutes).
#
#   bash test/valgrind/run.sh                 # every sql/*.sql
#   bash test/valgrind/run.sh kinship mates   # some of them
#
# Builds, installs into a throwaway copy of the server, starts postgres under
#   valgrind --trace-children=yes --track-origins=no --error-exitcode=0
# with PostgreSQL's suppressions, runs pg_regress, and then reports every
# "Invalid read/write", "uninitialised" or "definitely lost" error whose stack
# passes through ecs_agents.so.  Exit status 1 when there is one.
# ECS_KEEP_TMP=1 keeps the valgrind logs.
source "$(dirname "$0")/../lib/cluster.sh"

ecs_build_deps
ecs_need_packages valgrind
ecs_make_tmp
ecs_build_and_install

mkdir -p "$ECS_TMP/data" "$ECS_TMP/sock" "$ECS_TMP/vg"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$ECS_TMP"
ecs_as_owner initdb -D "$ECS_TMP/data" -A trust -U postgres >/dev/null
supp="$ECS_ROOT/test/valgrind/postgres.supp"
ecs_as_owner bash -c "valgrind --quiet --trace-children=yes --track-origins=no \
    --read-var-info=no --num-callers=30 --error-limit=no \
    --suppressions='$supp' --log-file='$ECS_TMP/vg/%p.log' \
    '$ECS_INST_BIN/postgres' -D '$ECS_TMP/data' -c listen_addresses='' \
    -c unix_socket_directories='$ECS_TMP/sock' -c port=${ECS_PORT:-54329} \
    -c max_parallel_workers_per_gather=0 >'$ECS_TMP/server.log' 2>&1 &"
export PGHOST="$ECS_TMP/sock" PGPORT="${ECS_PORT:-54329}" PGUSER=postgres
for _ in $(seq 1 300); do
    "$ECS_INST_BIN/pg_isready" -q && break
    if grep -q FATAL "$ECS_TMP"/vg/*.log 2>/dev/null; then cat "$ECS_TMP"/vg/*.log; exit 1; fi
    sleep 1
done

tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=($(cd "$ECS_ROOT/sql" && ls *.sql | sed 's/\.sql$//'))
cd "$ECS_ROOT"
"/usr/lib/postgresql/$ECS_PGMAJOR/lib/pgxs/src/test/regress/pg_regress" \
    --inputdir=. --outputdir="$ECS_TMP/out" --bindir="$ECS_INST_BIN" \
    --dbname=ecs_valgrind --load-extension=ecs_agents "${tests[@]}" || true
ecs_as_owner "$ECS_INST_BIN/pg_ctl" -D "$ECS_TMP/data" -m fast -w -t 600 stop >/dev/null || true

ours=0
for f in "$ECS_TMP"/vg/*.log; do
    # one error block per blank-line-separated paragraph; keep those in our code
    awk -v RS= '/ecs_agents\.so/ && /(Invalid (read|write)|uninitialised|definitely lost)/' "$f" \
        > "$f.ours" || true
    [ -s "$f.ours" ] && { ours=$((ours + 1)); cat "$f.ours"; }
done
echo "valgrind: ${#tests[@]} regression files, $(ls "$ECS_TMP"/vg/*.log | wc -l) processes traced, $ours with errors in ecs_agents.so"
[ $ours -eq 0 ]
