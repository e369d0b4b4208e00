#!/usr/bin/env bash
# Every benchmark of the project in one report. Each perf/*.sh measures mt and a reference (OpenSSL, pandas, a
# serial baseline, …) in the same run on this machine and prints its figures as ratios; this script builds the
# release binaries once, runs them all and gathers their "ratio" lines at the end. Benchmarks, not tests: a
# missed target is reported, not failed. PERF_SCALE=0.1 shrinks every data set for a quick look.
set -uo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null || exit 1
export MT_BIN="$PWD/.build/release/mt" MT_SIM_BIN="$PWD/.build/release/mt-sim"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
for p in perf/*.sh; do
  echo "== $p"
  bash "$p" 2>&1 | tee -a "$report"
  echo
done
echo "== summary (ratios measured in this run on this machine)"
grep -i "ratio" "$report" || echo "(no ratios were printed)"
