#!/usr/bin/env bash
# Issue 14: the slow-client scenario against a release m110d on SQLite.
#   1. N (default 2,000) connections trickling a request head, one byte a second, for DURATION
#      (default 60) seconds, with the default bounds;
#   2. 300 idle connections against an m110d started with `ulimit -n 256`.
# Each prints RSS before / peak during / after and /healthz latency during (slowclient.py).
# Usage (from the workspace root, after `cargo build --release -p m110-runtime --bin m110d`):
#   bench/slowclient/run.sh
# M110D=path/to/m110d, M110=path/to/m110 (provisioning; the debug build is fine), N, DURATION.
set -euo pipefail
M110D=${M110D:-${CARGO_TARGET_DIR:-target}/release/m110d}
M110=${M110:-$( [ -x "${CARGO_TARGET_DIR:-target}/release/m110" ] && echo "${CARGO_TARGET_DIR:-target}/release/m110" || echo "${CARGO_TARGET_DIR:-target}/debug/m110")}
N=${N:-2000}
DURATION=${DURATION:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$M110" provision profiles/shaowu.yaml --install "$WORK/install" >/dev/null
PORT=$(free_port)

start() { # start NOFILE
  (ulimit -n "$1"; exec "$M110D" serve --install "$WORK/install" --listen "127.0.0.1:$PORT") \
    >"$WORK/m110d.out" 2>"$WORK/m110d.err" &
  PID=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "m110d did not start" >&2; cat "$WORK/m110d.err" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), m110d $("$M110D" --version)"
echo "== 1. $N trickling connections, ${DURATION}s, default bounds (open files $(ulimit -n))"
start "$(ulimit -n)"
python3 "$HERE/slowclient.py" --url "http://127.0.0.1:$PORT" --pid "$PID" \
  --connections "$N" --mode trickle --duration "$DURATION"
stop
echo "== 2. 300 idle connections, m110d under ulimit -n 256"
start 256
grep -o 'connection cap lowered[^"]*' "$WORK/m110d.err" | head -1 || true
python3 "$HERE/slowclient.py" --url "http://127.0.0.1:$PORT" --pid "$PID" \
  --connections 300 --mode idle --duration 30
stop
