#!/usr/bin/env bash
# Our prospective space-time permutation scan beside SaTScan's on the synthetic county (issue 12).
#
# 1. exports the runs (the ignored test warning::satscan::export_for_satscan): per analysis day
#    and category a SaTScan case file, parameter file and our own most likely cluster;
# 2. runs SaTScan on every parameter file;
# 3. bench/satscan/compare.py prints the side-by-side table and the summary (also written to
#    $OUT/compare.txt).
#
# Usage: bench/satscan/run.sh
# Environment:
#   SATSCAN            the SaTScan binary (default /work/satscan-build/satscan; build it with
#                      /work/shared/tools/build-satscan.sh — it stays outside the repository)
#   M110_SATSCAN_OUT   where the runs go (default target/satscan; emptied first)
#   M110_SATSCAN_DAYS  keep only the first N analysis days (40-odd cluster ends, then 10 quiet)
#   M110_BENCH_SEED    the synthetic county's seed (default 110, bench.rs's)
#   M110_SATSCAN_REPLICAS  Monte Carlo replicas of both programs (default 999)
#   PROFILE            release (default) or debug, for the export test
#   JOBS               SaTScan processes at once (default 1; the machine has 2 cores)
#   SKIP_EXPORT=1      reuse the exported runs;  SKIP_SATSCAN=1  reuse SaTScan's outputs
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
satscan="${SATSCAN:-/work/satscan-build/satscan}"
out="${M110_SATSCAN_OUT:-$root/target/satscan}"
export M110_SATSCAN_OUT="$out"
jobs="${JOBS:-1}"

if [ "${SKIP_EXPORT:-0}" != 1 ]; then
    mkdir -p "$out"
    find "$out" -maxdepth 1 -type f -delete
    flag=--release
    [ "${PROFILE:-release}" = debug ] && flag=
    cargo test -p m110-runtime $flag --lib warning::satscan -- --ignored --nocapture
fi

if [ "${SKIP_SATSCAN:-0}" != 1 ]; then
    "$satscan" -v | head -1
    rm -f "$out"/*.col.txt "$out"/*.gis.txt "$out"/*.log
    start=$(date +%s.%N)
    # Each run in $out (its file names are relative); a failed run is reported by compare.py.
    find "$out" -maxdepth 1 -name '*.prm' -printf '%f\n' | sort |
        xargs -P "$jobs" -I{} sh -c 'cd "$1" && "$2" "$3" > "${3%.prm}.log" 2>&1 || echo "SaTScan failed: $3 (see ${3%.prm}.log)" >&2' \
            sh "$out" "$satscan" {}
    end=$(date +%s.%N)
    n=$(find "$out" -maxdepth 1 -name '*.prm' | wc -l)
    awk -v s="$start" -v e="$end" -v n="$n" -v j="$jobs" \
        'BEGIN { printf "SaTScan: %d runs in %.1f s (%.2f s a run, %d at once)\n", n, e - s, (e - s) / n, j }'
fi

python3 "$root/bench/satscan/compare.py" "$out" | tee "$out/compare.txt"
