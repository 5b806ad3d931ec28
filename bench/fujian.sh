#!/usr/bin/env bash
# Fujian-wide kit benchmark: init + validate + plan + generate over every Fujian village.
#
# Builds the release `m110`, then times with /usr/bin/time -v (wall time, peak RSS):
# - `m110 init` of a county (350781) and of a prefecture-level city (350100) from embedded data;
# - `m110 init` of the whole province (350000: every county, township and village; its output
#   carries FILL_IN markers for population and phone numbers, so it cannot validate as written);
# - writing the same province as a filled-in profile (84 counties/districts, 1,170 townships,
#   17,498 villages, grid cells generated one per 300 synthetic but fixed households) with
#   bench/gen_fujian.py;
# - `m110 validate`, `m110 plan --format json` and `m110 generate` of that profile.
# Target: < 5 s and < 500 MB in total on the machine it runs on.
#
# Usage: bench/fujian.sh            (uses $CARGO_TARGET_DIR or ./target)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --locked -p m110 --bin m110 >&2
m110="$target/release/m110"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

total_s=0
max_rss_kb=0
total_cpu=0
printf '%-34s %9s %9s %14s %5s\n' "stage" "wall (s)" "cpu (s)" "peak RSS (MB)" "exit"

# Runs one stage under /usr/bin/time -v; stdout goes to $work/<label>.out.
stage() {
  local label="$1"; shift
  local ok=0
  /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/$label.out" 2>"$work/$label.err" || ok=$?
  local wall rss
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt" \
    | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')"
  rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")"
  # User + system CPU: what the stage costs when the machine is not shared.
  cpu="$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {print s}' "$work/time.txt")"
  printf '%-34s %9.2f %9.2f %14.1f %5s\n' "$label" "$wall" "$cpu" "$(echo "$rss / 1024" | bc -l)" "$ok"
  total_s="$(echo "$total_s + $wall" | bc -l)"
  total_cpu="$(echo "$total_cpu + $cpu" | bc -l)"
  if [ "$rss" -gt "$max_rss_kb" ]; then max_rss_kb="$rss"; fi
  if [ "$ok" -ne 0 ]; then
    echo "stage $label failed (exit $ok):" >&2
    head -20 "$work/$label.out" "$work/$label.err" >&2
    exit 1
  fi
}

stage "init-350781 (county)" "$m110" init --division 350781 -o "$work/shaowu.yaml"
stage "init-350100 (prefecture city)" "$m110" init --division 350100 -o "$work/fuzhou.yaml"
stage "init-350000 (province)" "$m110" init --division 350000 -o "$work/fujian-init.yaml"
stage "profile-fujian (gen_fujian.py)" python3 bench/gen_fujian.py "$work/fujian.yaml"
stage "validate-fujian" "$m110" validate "$work/fujian.yaml"
stage "plan-fujian (json)" "$m110" plan "$work/fujian.yaml" --format json
stage "generate-fujian" "$m110" generate "$work/fujian.yaml" -o "$work/kit"

printf '%-34s %9.2f %9.2f %14.1f\n' "total (sum) / max RSS" "$total_s" "$total_cpu" "$(echo "$max_rss_kb / 1024" | bc -l)"
echo
python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
plan = json.load(open(os.path.join(work, "plan-fujian (json).out")))
tiers = ", ".join(f"{t['name']} {t['count']}" for t in plan["units_by_tier"])
s = plan["staffing"]
print(f"profile: {os.path.getsize(os.path.join(work, 'fujian.yaml')) / 1e6:.1f} MB; {tiers}")
print(f"staffing: {s['peak_calls_per_hour']:.0f} calls/h peak -> {s['agents']} agents, "
      f"{s['scheduled_staff']} scheduled; routing gaps: {len(plan['routing']['gaps'])}")
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(work, "kit")) for f in fs)
print(f"generated: {size / 1e6:.1f} MB in {sum(len(fs) for _, _, fs in os.walk(os.path.join(work, 'kit')))} files")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (wall times stretch when other jobs share the cores)"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
