#!/usr/bin/env bash
# Issue 13 benchmarks (a), (b), (d), (e) on one build: provisions Shaowu on SQLite and on
# PostgreSQL, serves each with that build's release m110d and runs, per engine,
#   loadgen intake  — JSON API and Open311 peak with CLIENTS clients vs the raw engine measured
#                     directly in the same run (ratio), then open loop at half the peak (p50/p99),
#                     m110d RSS idle and under load;
#   loadgen streams — m110d CPU over SECONDS s with no stream, then with STREAMS idle console
#                     live-update streams open.
# Usage (from the workspace root, after
# `cargo build --release -p m110 -p m110-runtime -p m110-loadgen`):
#   bench/loadgen/run.sh [CLIENTS] [SECONDS] [STREAMS] [LABEL]
# M110_BENCH_PROFILE: the profile to provision (default profiles/shaowu.yaml; an older build needs
# the profile of its own tree). M110_BIN: directory holding the m110 and m110d under test (default target/release; point it at
# another build's release dir for a before/after comparison). LOADGEN: the loadgen binary
# (default target/release/loadgen). M110_BENCH_ENGINES: "sqlite postgres" (default) or one.
# PostgreSQL: M110_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); a
# database m110_loadgen_<pid> is created and dropped; the raw limit uses scratch tables in it.
set -euo pipefail
PROFILE=${M110_BENCH_PROFILE:-profiles/shaowu.yaml}
CLIENTS=${1:-16}
SECS=${2:-10}
STREAMS=${3:-500}
LABEL=${4:-}
BIN=${M110_BIN:-${CARGO_TARGET_DIR:-target}/release}
LOADGEN=${LOADGEN:-${CARGO_TARGET_DIR:-target}/release/loadgen}
ENGINES=${M110_BENCH_ENGINES:-sqlite postgres}
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

export M110_BENCH_PASSWORD="bench-$$-Passw0rd"

bench() { # engine install-dir [db-url]
  local engine=$1 dir=$2 db=${3:-}
  local args=(provision "$PROFILE" --install "$dir")
  [ -n "$db" ] && args+=(--database "$db")
  "$BIN/m110" "${args[@]}" >/dev/null
  local token
  token=$("$BIN/m110" token add --install "$dir" --name loadgen --role operator | tail -n1)
  echo "$M110_BENCH_PASSWORD" | "$BIN/m110" user add --install "$dir" --name bench \
    --role supervisor --password-stdin >/dev/null
  local port
  port=$(free_port)
  M110_LOG=warn "$BIN/m110d" serve --install "$dir" --listen "127.0.0.1:$port" 2>"$WORK/$engine.log" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  sleep 2 # let start-up work (migrations, sync, first jobs) finish before reading idle RSS
  local raw=(--raw-sqlite-seconds 5)
  [ "$engine" = postgres ] && raw=(--raw-pg "$db" --raw-pg-seconds 5)
  local tag="$engine${LABEL:+ $LABEL}"
  "$LOADGEN" intake --url "http://127.0.0.1:$port" --token "$token" --clients "$CLIENTS" \
    --seconds "$SECS" --half-seconds "$SECS" "${raw[@]}" --pid "$pid" --label "$tag" || true
  if [ "$STREAMS" -gt 0 ]; then # 0 skips the streams
    "$LOADGEN" streams --url "http://127.0.0.1:$port" --user bench --streams "$STREAMS" \
      --seconds 30 --pid "$pid" --label "$tag" || true
  fi
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

echo "m110d under test: $BIN/m110d ($("$BIN/m110" --version))"
for engine in $ENGINES; do
  case $engine in
    sqlite) bench sqlite "$WORK/sqlite" ;;
    postgres)
      psql "$PG_ADMIN" -qc "CREATE DATABASE $PGDB" >/dev/null
      bench postgres "$WORK/postgres" "${PG_ADMIN%/*}/$PGDB" ;;
    *) echo "unknown engine $engine" >&2; exit 2 ;;
  esac
done
