# Shared shell helpers: a throwaway redis-server on a free loopback port.
# Usage: source scripts/lib/redis.sh; redis_start_throwaway; ...; redis_stop_throwaway

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

redis_start_throwaway() {
  REDIS_PORT="$(free_port)"
  REDIS_DIR="$(mktemp -d)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" >/dev/null
  for _ in $(seq 1 100); do
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "redis-server did not start on port $REDIS_PORT (log: $REDIS_DIR/redis.log)" >&2
  return 1
}

redis_stop_throwaway() {
  if [ -n "${REDIS_DIR:-}" ] && [ -f "$REDIS_DIR/redis.pid" ]; then
    kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
    sleep 0.1
  fi
  [ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
  return 0
}
