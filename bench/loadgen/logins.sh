#!/usr/bin/env bash
# Issue 14 login benchmark on one build: provisions Shaowu on SQLite, serves it with that build's
# release m110d and runs `loadgen logins`: known vs unknown names' wrong-password time, then
# intake at RATE/s alone and under a FLOOD-way login flood (right password: a full argon2 check
# per attempt).
# Usage (from the workspace root, after `cargo build --release -p m110 -p m110-runtime -p m110-loadgen`):
#   bench/loadgen/logins.sh [RATE] [SECONDS] [FLOOD]
# M110_BIN: directory of the m110 and m110d under test (default target/release).
set -euo pipefail
RATE=${1:-50}
SECS=${2:-10}
FLOOD=${3:-16}
BIN=${M110_BIN:-${CARGO_TARGET_DIR:-target}/release}
LOADGEN=${LOADGEN:-${CARGO_TARGET_DIR:-target}/release/loadgen}
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PASS="bench-$$-Passw0rd"
"$BIN/m110" provision profiles/shaowu.yaml --install "$WORK/i" >/dev/null
token=$("$BIN/m110" token add --install "$WORK/i" --name loadgen --role operator | tail -n1)
known=()
for u in flood k1 k2 k3; do
  echo "$PASS" | "$BIN/m110" user add --install "$WORK/i" --name "$u" --role operator --password-stdin >/dev/null
  [ "$u" != flood ] && known+=("$u")
done
M110_LOG=warn "$BIN/m110d" serve --install "$WORK/i" --listen "127.0.0.1:$port" 2>"$WORK/m110d.log" &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
echo "m110d under test: $BIN/m110d ($("$BIN/m110" --version))"
"$LOADGEN" logins --url "http://127.0.0.1:$port" --token "$token" --user flood --password "$PASS" \
  --known "$(IFS=,; echo "${known[*]}")" --rate "$RATE" --seconds "$SECS" --flood "$FLOOD"
