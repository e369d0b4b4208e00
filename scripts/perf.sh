#!/usr/bin/env bash
# Every benchmark of the project in one report. Each perf/*.sh measures mt and a reference (OpenSSL, pandas, a
# serial baseline, …) in the same run on this machine and prints its figures as ratios; this script builds the
# release binaries once, runs them all and gathers their "ratio" and "target" lines at the end, each figure beside
# its target. Benchmarks, not tests: a missed target is reported, not failed. PERF_SCALE=0.1 shrinks every data
# set for a quick look; PERF_BUILD=0 skips timing a fresh clone's make install.
set -uo pipefail
cd "$(dirname "$0")/.."
# mt and mt-sim from the simulator's package (Sim/, which depends on mt's): MTCore is compiled once for both.
# Without the package trait TLS: no benchmark starts `mt-sim --tls`, so BoringSSL is not compiled.
swift build --package-path Sim -c release --product mt >/dev/null || exit 1
swift build --package-path Sim -c release --product mt-sim >/dev/null || exit 1
BIN=$(swift build --package-path Sim -c release --show-bin-path)
export MT_BIN="$BIN/mt" MT_SIM_BIN="$BIN/mt-sim"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
for p in perf/*.sh; do
  echo "== $p"
  bash "$p" 2>&1 | tee -a "$report"
  echo
done
echo "== summary (figures measured in this run on this machine, each beside its target; PERF_SCALE ${PERF_SCALE:-1})"
grep -iE "ratio|target" "$report" || echo "(no ratios were printed)"
