# test/lib/cluster.sh — sourced by run-tests.sh, demo.sh and bench/run.sh.
#
# Builds the extension, installs it into a throwaway copy of the PostgreSQL
# server (so nothing is written to the system's directories and several
# checkouts can test side by side), and starts a throwaway cluster on a unix
# socket in a temp dir.  Everything is removed on exit, failure included.
#
# After ecs_cluster_start:  PGHOST PGPORT PGUSER PGDATABASE point at it,
# ECS_INST_BIN is the bin dir of the copy, ECS_TMP the temp dir.

set -euo pipefail

ECS_PGMAJOR=${ECS_PGMAJOR:-15}
ECS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

ecs_log() { printf '== %s\n' "$*" >&2; }

# ecs_need_packages PKG...: install Debian packages that are missing (root),
# else say what to install and fail.
ecs_need_packages() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        ecs_log "installing ${missing[*]}"
        if [ ! -f /var/lib/apt/lists/.ecs_updated ] ; then
            apt-get update -qq && touch /var/lib/apt/lists/.ecs_updated
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "ecs_agents: missing packages: ${missing[*]}" >&2
        echo "ecs_agents: install them with: sudo apt-get install ${missing[*]}" >&2
        return 1
    fi
}

ecs_build_deps() {
    ecs_need_packages "postgresql-$ECS_PGMAJOR" "postgresql-server-dev-$ECS_PGMAJOR" make gcc
}

# ecs_build_and_install: make, then install into a copy of the server in $ECS_TMP/inst
ecs_build_and_install() {
    local sysbin="/usr/lib/postgresql/$ECS_PGMAJOR/bin"
    [ -x "$sysbin/postgres" ] || { echo "ecs_agents: PostgreSQL $ECS_PGMAJOR server not found in $sysbin" >&2; return 1; }
    ecs_log "building"
    make -C "$ECS_ROOT" -s PG_CONFIG="$sysbin/pg_config" >/dev/null
    ecs_log "installing into a throwaway copy of the server ($ECS_TMP/inst)"
    mkdir -p "$ECS_TMP/inst/usr/lib/postgresql" "$ECS_TMP/inst/usr/share/postgresql"
    cp -a "/usr/lib/postgresql/$ECS_PGMAJOR" "$ECS_TMP/inst/usr/lib/postgresql/"
    cp -a "/usr/share/postgresql/$ECS_PGMAJOR" "$ECS_TMP/inst/usr/share/postgresql/"
    make -C "$ECS_ROOT" -s PG_CONFIG="$sysbin/pg_config" DESTDIR="$ECS_TMP/inst" install >/dev/null
    ECS_INST_BIN="$ECS_TMP/inst/usr/lib/postgresql/$ECS_PGMAJOR/bin"
    export ECS_INST_BIN
}

# run a command as the cluster owner (postgres when we are root)
ecs_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- env PATH="$ECS_INST_BIN:$PATH" "$@"
    else
        env PATH="$ECS_INST_BIN:$PATH" "$@"
    fi
}

ecs_cleanup() {
    local rc=$?
    if [ -n "${ECS_TMP:-}" ] && [ -d "$ECS_TMP" ]; then
        if [ -f "$ECS_TMP/data/postmaster.pid" ]; then
            ecs_as_owner pg_ctl -D "$ECS_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
        fi
        if [ "${ECS_KEEP_TMP:-0}" = 1 ]; then
            ecs_log "kept $ECS_TMP"
        else
            rm -rf "$ECS_TMP"
        fi
    fi
    return $rc
}

ecs_make_tmp() {
    ECS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ecs_agents.XXXXXX")
    chmod 755 "$ECS_TMP"
    export ECS_TMP
    trap ecs_cleanup EXIT
    trap 'exit 130' INT TERM
}

# ecs_cluster_start [postgres -c options...]: initdb + start on a private socket
ecs_cluster_start() {
    mkdir -p "$ECS_TMP/data" "$ECS_TMP/sock"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$ECS_TMP"
    ecs_log "initdb + start (socket $ECS_TMP/sock)"
    ecs_as_owner initdb -D "$ECS_TMP/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$ECS_TMP/initdb.log" 2>&1 \
        || { cat "$ECS_TMP/initdb.log" >&2; return 1; }
    local opts="-c listen_addresses='' -c unix_socket_directories='$ECS_TMP/sock' -c port=${ECS_PORT:-54329}"
    opts="$opts -c fsync=off -c track_functions=all -c max_prepared_transactions=10"
    local extra
    for extra in "$@"; do opts="$opts -c $extra"; done
    ecs_as_owner pg_ctl -D "$ECS_TMP/data" -l "$ECS_TMP/server.log" -o "$opts" -w start >/dev/null \
        || { cat "$ECS_TMP/server.log" >&2; return 1; }
    export PGHOST="$ECS_TMP/sock" PGPORT="${ECS_PORT:-54329}" PGUSER=postgres PGDATABASE=postgres
}
