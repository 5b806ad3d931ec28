#!/usr/bin/env bash
# Provisions Shaowu on SQLite and on PostgreSQL, serves each with a release m110d and drives
# POST /api/v1/cases with bench/loadgen. Usage (from the workspace root, after
# `cargo build --release -p m110 -p m110-runtime -p m110-loadgen`):
#   bench/loadgen/run.sh [CLIENTS] [SECONDS]
# PostgreSQL: set M110_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); a
# database m110_loadgen_<pid> is created and dropped.
set -euo pipefail
CLIENTS=${1:-32}
SECONDS_=${2:-10}
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
PG_ADMIN=${M110_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PGDB=m110_loadgen_$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench() { # engine install-dir [db-url]
  local engine=$1 dir=$2 db=${3:-}
  local args=(provision profiles/shaowu.yaml --install "$dir")
  [ -n "$db" ] && args+=(--database "$db")
  "$BIN/m110" "${args[@]}" >/dev/null
  local token
  token=$("$BIN/m110" token add --install "$dir" --name loadgen --role operator | tail -n1)
  local port
  port=$(free_port)
  M110_LOG=warn "$BIN/m110d" serve --install "$dir" --listen "127.0.0.1:$port" 2>"$WORK/$engine.log" &
  PIDS+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  local raw=0
  [ "$engine" = sqlite ] && raw=3
  "$BIN/loadgen" --url "http://127.0.0.1:$port" --token "$token" --clients "$CLIENTS" \
    --seconds "$SECONDS_" --sqlite-seconds "$raw" --label "$engine"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
bench sqlite "$WORK/sqlite"
psql "$PG_ADMIN" -qc "CREATE DATABASE $PGDB" >/dev/null
bench postgres "$WORK/postgres" "${PG_ADMIN%/*}/$PGDB"
