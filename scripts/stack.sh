#!/usr/bin/env bash
# A local Redis + PostgreSQL stack without Docker, for examples, benchmarks and manual testing.
#
#   scripts/stack.sh up [--cluster]   start redis-server and PostgreSQL (and, with --cluster, a
#                                     3-master Redis Cluster); prints the variables to export
#   scripts/stack.sh down [--purge]   stop everything this script started (--purge: delete the data)
#   scripts/stack.sh status           what is running, and where
#   scripts/stack.sh env              the export lines only:  eval "$(scripts/stack.sh env)"
#   scripts/stack.sh -h | --help
#
# Everything lives under $STACK_DIR (default .stack/ in the repository, git-ignored): data,
# logs, pid files. Servers listen on 127.0.0.1 only. Ports (environment, defaults):
#   STACK_REDIS_PORT 6380, STACK_PG_PORT 5433, STACK_CLUSTER_PORT 7101 (7101..7103)
# PostgreSQL: user, password and database "accelerator" (trust authentication on loopback), like
# scripts/docker-compose.yml. Run as root, the server runs as the `postgres` OS user, which must be
# able to reach $STACK_DIR (else set STACK_DIR to a folder it can reach, e.g. under /tmp).
# Needs redis-server, redis-cli and the PostgreSQL server binaries (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

STACK_DIR="${STACK_DIR:-.stack}"
REDIS_PORT="${STACK_REDIS_PORT:-6380}"
PG_PORT="${STACK_PG_PORT:-5433}"
CLUSTER_PORT="${STACK_CLUSTER_PORT:-7101}"
CLUSTER_NODES=3

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
log() { echo "[stack] $*"; }
die() { echo "[stack] error: $*" >&2; exit 1; }

case "$STACK_DIR" in /*) ;; *) STACK_DIR="$PWD/$STACK_DIR" ;; esac
state="$STACK_DIR/stack.env"  # ports of the running stack, so status/env/down work with any env

pg_bindir() {
  if [ -n "${ACCELERATOR_PG_BINDIR:-}" ]; then echo "$ACCELERATOR_PG_BINDIR"; return; fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return
  die "PostgreSQL server binaries not found (apt install postgresql, or set ACCELERATOR_PG_BINDIR)"
}

# Runs a PostgreSQL tool as the postgres OS user when we are root (PostgreSQL refuses root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_redis() {
  for _ in $(seq 1 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  return 1
}

start_redis() {  # start_redis <name> <port> [extra redis-server args...]
  local name="$1" port="$2"; shift 2
  local dir="$STACK_DIR/$name"
  mkdir -p "$dir"
  if alive "$dir/redis.pid"; then log "$name already running on $port"; return; fi
  port_busy "$port" && die "port $port is in use (set STACK_REDIS_PORT / STACK_CLUSTER_PORT)"
  redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --appendonly yes "$@" >/dev/null
  wait_redis "$port" || die "$name did not start (log: $dir/redis.log)"
  log "$name up on 127.0.0.1:$port"
}

start_postgres() {
  local bindir dir="$STACK_DIR/postgres"
  bindir="$(pg_bindir)"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no postgres OS user"
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" ||
      die "the postgres user cannot write $dir; set STACK_DIR to a folder it can reach (e.g. /tmp/accelerator-stack)"
  fi
  if as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    log "postgres already running on $PG_PORT"
    return
  fi
  port_busy "$PG_PORT" && die "port $PG_PORT is in use (set STACK_PG_PORT)"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale >"$STACK_DIR/initdb.log" 2>&1 ||
      die "initdb failed (log: $STACK_DIR/initdb.log)"
  fi
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$dir/data" start >/dev/null ||
    die "pg_ctl start failed (log: $dir/server.log)"
  local psql=("$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$("${psql[@]}" -d postgres -c "select 1 from pg_roles where rolname = 'accelerator'")" != 1 ]; then
    "${psql[@]}" -d postgres -c "create role accelerator login password 'accelerator'" >/dev/null
  fi
  if [ "$("${psql[@]}" -d postgres -c "select 1 from pg_database where datname = 'accelerator'")" != 1 ]; then
    "${psql[@]}" -d postgres -c "create database accelerator owner accelerator" >/dev/null
  fi
  log "postgres up on 127.0.0.1:$PG_PORT"
}

# True when every node of the cluster reports cluster_state:ok.
cluster_ok() {
  local i
  for i in $(seq 0 $((CLUSTER_NODES - 1))); do
    redis-cli -p $((CLUSTER_PORT + i)) cluster info 2>/dev/null | grep -q "cluster_state:ok" || return 1
  done
}

start_cluster() {
  local i port nodes=()
  for i in $(seq 0 $((CLUSTER_NODES - 1))); do
    port=$((CLUSTER_PORT + i))
    start_redis "cluster-$port" "$port" --appendonly no --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 5000 --cluster-require-full-coverage no
    nodes+=("127.0.0.1:$port")
  done
  # Formed before (nodes.conf kept across down/up): wait for the nodes to find each other again.
  if redis-cli -p "$CLUSTER_PORT" cluster info 2>/dev/null | grep -q "cluster_known_nodes:$CLUSTER_NODES"; then
    for _ in $(seq 1 150); do
      if cluster_ok; then
        log "cluster already formed"
        return
      fi
      sleep 0.1
    done
    die "the cluster on $CLUSTER_PORT.. is not healthy (scripts/stack.sh down --purge starts afresh)"
  fi
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$STACK_DIR/cluster-create.log" 2>&1 ||
    die "redis-cli --cluster create failed (log: $STACK_DIR/cluster-create.log)"
  for _ in $(seq 1 100); do
    cluster_ok && break
    sleep 0.1
  done
  cluster_ok || die "the cluster did not reach cluster_state:ok (logs: $STACK_DIR/cluster-*/redis.log)"
  log "cluster of $CLUSTER_NODES masters up on 127.0.0.1:$CLUSTER_PORT..$((CLUSTER_PORT + CLUSTER_NODES - 1))"
}

print_env() {
  [ -f "$state" ] || { echo "# stack is not up (scripts/stack.sh up)"; return 1; }
  # shellcheck disable=SC1090
  source "$state"
  local redis="redis://127.0.0.1:$REDIS_PORT"
  local dsn="postgresql://accelerator:accelerator@127.0.0.1:$PG_PORT/accelerator"
  echo "export ACCELERATOR_REDIS_URL=$redis"
  echo "export ACCELERATOR_TEST_REDIS_URL=$redis"
  echo "export ACCELERATOR_BENCH_REDIS_URL=$redis"
  echo "export ACCELERATOR_TEST_POSTGRES_DSN=$dsn"
  if [ "${CLUSTER:-0}" = 1 ]; then
    local seeds="127.0.0.1:$CLUSTER_PORT" i
    for i in $(seq 1 $((CLUSTER_NODES - 1))); do seeds+=",127.0.0.1:$((CLUSTER_PORT + i))"; done
    echo "export ACCELERATOR_REDIS_CLUSTER_URL=redis-cluster://$seeds"
    echo "export ACCELERATOR_BENCH_REDIS_CLUSTER_URL=redis-cluster://$seeds"
  fi
}

up() {
  local cluster=0
  for arg in "$@"; do
    case "$arg" in
      --cluster) cluster=1 ;;
      *) die "unknown option for up: $arg" ;;
    esac
  done
  command -v redis-server >/dev/null || die "redis-server not found (scripts/setup.sh installs it)"
  mkdir -p "$STACK_DIR"
  if [ -f "$state" ]; then
    # Keep the ports of a stack that is already (partly) up.
    # shellcheck disable=SC1090
    source "$state"
    [ "$cluster" = 1 ] || cluster="${CLUSTER:-0}"
  fi
  start_redis redis "$REDIS_PORT"
  start_postgres
  [ "$cluster" = 1 ] && start_cluster
  printf 'REDIS_PORT=%s\nPG_PORT=%s\nCLUSTER_PORT=%s\nCLUSTER=%s\n' "$REDIS_PORT" "$PG_PORT" "$CLUSTER_PORT" \
    "$cluster" >"$state"
  echo
  echo "# export these (or: eval \"\$(scripts/stack.sh env)\"):"
  print_env
}

down() {
  local purge=0
  for arg in "$@"; do
    case "$arg" in
      --purge) purge=1 ;;
      *) die "unknown option for down: $arg" ;;
    esac
  done
  local pid dir
  for pid in "$STACK_DIR"/*/redis.pid; do
    [ -f "$pid" ] || continue
    dir="$(dirname "$pid")"
    if alive "$pid"; then
      kill "$(cat "$pid")" && log "stopped $(basename "$dir")"
    fi
    rm -f "$pid"
  done
  if [ -f "$STACK_DIR/postgres/data/PG_VERSION" ]; then
    as_pg "$(pg_bindir)/pg_ctl" -D "$STACK_DIR/postgres/data" -m fast -w -t 30 stop >/dev/null 2>&1 &&
      log "stopped postgres"
  fi
  rm -f "$state"
  if [ "$purge" = 1 ]; then
    rm -rf "$STACK_DIR"
    log "removed $STACK_DIR"
  fi
}

status() {
  local dir any=0
  for dir in "$STACK_DIR"/*/; do
    [ -f "$dir/redis.log" ] || continue
    any=1
    if alive "$dir/redis.pid"; then echo "$(basename "$dir"): running (pid $(cat "$dir/redis.pid"))"; else
      echo "$(basename "$dir"): stopped"
    fi
  done
  if [ -f "$STACK_DIR/postgres/data/PG_VERSION" ]; then
    any=1
    if as_pg "$(pg_bindir)/pg_ctl" -D "$STACK_DIR/postgres/data" status >/dev/null 2>&1; then
      echo "postgres: running"
    else
      echo "postgres: stopped"
    fi
  fi
  [ "$any" = 1 ] || echo "nothing started under $STACK_DIR"
  [ -f "$state" ] && { echo; print_env; }
  return 0
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  up) up "$@" ;;
  down) down "$@" ;;
  status) status ;;
  env) print_env ;;
  -h|--help) usage ;;
  "") usage >&2; exit 2 ;;
  *) echo "[stack] unknown command: $cmd" >&2; usage >&2; exit 2 ;;
esac
