#!/usr/bin/env bash
# Issue 13 benchmark (c): request times at 10 thousand, 1 million (and 10 million) cases.
# Provisions Shaowu on SQLite (or PostgreSQL), grows it with `loadgen generate` to each size in
# turn, serves it with a fresh m110d (start-up runs the migrations and the rollup sync) and times
# dashboard, queue page, case list, search, analytics and the live-update poll with
# `loadgen timing`, printing each size's ratio to the 10k run.
# Usage (from the workspace root, after
# `cargo build --release -p m110 -p m110-runtime -p m110-loadgen`):
#   bench/scale.sh [SIZES...]        default: 10000 1000000 10000000
# M110_BIN, LOADGEN, M110_BENCH_PROFILE as in bench/loadgen/run.sh. M110_BENCH_ENGINE=postgres uses a database
# m110_scale_<pid> on M110_BENCH_PG_URL (dropped afterwards). M110_BENCH_KEEP=1 keeps the files.
# Disk: SQLite takes about 1 GB per million cases (with timelines, facts and indexes).
set -euo pipefail
PROFILE=${M110_BENCH_PROFILE:-profiles/shaowu.yaml}
SIZES=("${@:-10000 1000000 10000000}")
read -r -a SIZES <<<"${SIZES[*]}"
BIN=${M110_BIN:-${CARGO_TARGET_DIR:-target}/release}
LOADGEN=${LOADGEN:-${CARGO_TARGET_DIR:-target}/release/loadgen}
ENGINE=${M110_BENCH_ENGINE:-sqlite}
WORK=$(mktemp -d)
PG_ADMIN=${M110_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PGDB=m110_scale_$$
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$ENGINE" = postgres ]; then
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  [ "${M110_BENCH_KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export M110_BENCH_PASSWORD="bench-$$-Passw0rd"

DIR=$WORK/install
args=(provision "$PROFILE" --install "$DIR")
gen=(--sqlite "$DIR/m110.db")
if [ "$ENGINE" = postgres ]; then
  psql "$PG_ADMIN" -qc "CREATE DATABASE $PGDB" >/dev/null
  args+=(--database "${PG_ADMIN%/*}/$PGDB")
  gen=(--postgres "${PG_ADMIN%/*}/$PGDB")
fi
echo "m110d under test: $BIN/m110d ($("$BIN/m110" --version)), engine $ENGINE"
"$BIN/m110" "${args[@]}" >/dev/null
echo "$M110_BENCH_PASSWORD" | "$BIN/m110" user add --install "$DIR" --name bench \
  --role supervisor --password-stdin >/dev/null

have=0
first=
for size in "${SIZES[@]}"; do
  add=$((size - have))
  if [ "$add" -gt 0 ]; then
    echo "== growing to $size cases (+$add)"
    "$LOADGEN" generate "${gen[@]}" --cases "$add"
    have=$size
  fi
  [ "$ENGINE" = sqlite ] && du -sh "$DIR/m110.db"
  port=$(free_port)
  t0=$(date +%s.%N)
  M110_LOG=warn "$BIN/m110d" serve --install "$DIR" --listen "127.0.0.1:$port" 2>"$WORK/m110d.log" &
  PID=$!
  for _ in $(seq 6000); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  echo "m110d ready after $(python3 -c "import time; print(round(time.time()-$t0,1))") s"
  label=$(python3 -c "n=$size; print(f'{n//1000000}M' if n>=1000000 else f'{n//1000}k')")
  base=()
  [ -n "$first" ] && base=(--baseline "$WORK/$first.json")
  "$LOADGEN" timing --url "http://127.0.0.1:$port" --user bench --label "$label" \
    --save "$WORK/$label.json" "${base[@]}" || true
  [ -z "$first" ] && first=$label
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
done
