#!/usr/bin/env bash
# mt export against a serial baseline, both measured in this run (not a test: no pass/fail, a ratio).
#
# Study: one deleteable scale of 1,000 entries served by mt-sim with 5 ms latency on every request.
# Baseline: what the original tool did — one DELETE at a time, each on a new connection (Python http.client,
#   connection opened and closed per request; no process start per request, so the baseline is not inflated).
# mt export: the whole job (fetch, gzip archive, fsync, read-back, ledger, deletes, benchmark) with its
#   kept-alive connections at default settings (adaptive: CONCURRENCY 4 growing towards MAX_CONCURRENCY 16),
#   then the same with 5% of DELETEs answered 500, to show the concurrency backing off.
# Best of three runs each. The latency floor is what deleting alone would take at the concurrency mt reached: deletes x latency / reached.
# Usage: perf/export_perf.sh [ENTRIES] [LATENCY_MS]   (MT_BIN/MT_SIM_BIN: prebuilt binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
# Always 1,000 by default, whatever PERF_SCALE: the target is defined there, and the run is short anyway.
N=${1:-1000}
LAT=${2:-5}
if [ -z "${MT_BIN:-}" ] || [ -z "${MT_SIM_BIN:-}" ]; then
    swift build -c release --product mt >/dev/null
    swift build --package-path Sim -c release --product mt-sim >/dev/null
    MT_BIN=$PWD/.build/release/mt MT_SIM_BIN=$PWD/Sim/.build/release/mt-sim
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mt-export-perf.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

printf 'perf-pass-%s\n' "$RANDOM$RANDOM" > "$WORK/pass"; chmod 600 "$WORK/pass"
python3 - "$WORK/study" "$N" <<'PY'
import json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d)
rows = [{"id": i, "date": "Sun, 29 Nov 2026 03:40:12 +0000", "session": "PRE", "tag": "t",
         "timeOnPage": 1.5, "anxious_freq": i % 5, "text": "réponse, \"%d\" 日本" % i} for i in range(1, n + 1)]
json.dump(rows, open(os.path.join(d, "Perf.json"), "w"), ensure_ascii=False)
json.dump({}, open(os.path.join(d, "deleteable.json"), "w"))
PY

start_sim() { # $1 = name, then mt-sim fault flags; prints the API base
    local name=$1; shift
    cp -r "$WORK/study" "$WORK/$name-study"
    "$MT_SIM_BIN" --data "$WORK/$name-study" --pass-file "$WORK/pass" --latency-ms "$LAT" "$@" \
        --ledger "$WORK/$name-ledger.tsv" --url-file "$WORK/$name.url" >/dev/null 2>"$WORK/$name.log" &
    PIDS+=($!)
    for _ in $(seq 200); do [ -s "$WORK/$name.url" ] && break; sleep 0.05; done
    cat "$WORK/$name.url"
}

now() { date +%s.%N; }

# Baseline.
run_baseline() { # $1 = name; sets SECS
URL=$(start_sim "$1")
T0=$(now)
python3 - "$URL" "$WORK/pass" "$N" <<'PY'
import base64, http.client, sys, urllib.parse
url, passfile, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlsplit(url)
auth = "Basic " + base64.b64encode(("admin:" + open(passfile).read().splitlines()[0]).encode()).decode()
c = http.client.HTTPConnection(u.hostname, u.port); c.request("GET", u.path + "/export/Perf", headers={"Authorization": auth})
r = c.getresponse(); body = r.read(); c.close()
assert r.status == 200, r.status
for i in range(1, n + 1):
    c = http.client.HTTPConnection(u.hostname, u.port)
    c.request("DELETE", "%s/export/Perf/%d" % (u.path, i), headers={"Authorization": auth, "Connection": "close"})
    r = c.getresponse(); r.read(); c.close()
    assert r.status == 200, (i, r.status)
PY
T1=$(now)
SECS=$(echo "$T1 - $T0" | bc -l)
}

run_mt() { # $1 = name, then mt-sim fault flags; sets SECS, PEAK (most DELETEs in flight), HALVED
    local name=$1; shift
    local url; url=$(start_sim "$name" "$@")
    cat > "$WORK/$name.yaml" <<YAML
perf:
  READY: true
  DELETE_MODE: true
  SERVER: "$url"
  USER: admin
  PASS_FILE: "$WORK/pass"
  PATH: "$WORK/data-$name"
  RETRIES: $RETRIES
YAML
    chmod 600 "$WORK/$name.yaml"
    # An existing (empty) benchmark: a first run on a new data directory would report its creation at critical.
    mkdir -p "$WORK/data-$name/active_data" && echo '{}' > "$WORK/data-$name/active_data/benchMark.json"
    local t0 t1; t0=$(now)
    "$MT_BIN" --config "$WORK/$name.yaml" export -q || echo "mt export exited $? (see $WORK/data-$name/logs)" >&2
    t1=$(now)
    local deleted; deleted=$(wc -l < "$WORK/$name-ledger.tsv")
    [ "$deleted" -eq "$N" ] || { echo "mt export deleted $deleted of $N" >&2; exit 1; }
    SECS=$(echo "$t1 - $t0" | bc -l)
    local line; line=$(grep -o 'up to [0-9]* at once, halved [0-9]* times' "$WORK/data-$name/logs/Daily.log" | tail -1)
    PEAK=$(echo "$line" | awk '{print $3}')
    HALVED=$(echo "$line" | awk '{print $7}')
}
# Best of three each, alternating: a neighbour's burst of work on the shared machine weighs less.
BASE=1e9 MT=1e9
for round in 1 2 3; do
    run_baseline "baseline$round"
    BASE=$(awk -v a="$BASE" -v b="$SECS" 'BEGIN { print (b < a ? b : a) }')
    RETRIES=3 run_mt "default$round"
    if awk -v a="$MT" -v b="$SECS" 'BEGIN { exit !(b < a) }'; then MT=$SECS MT_PEAK=$PEAK MT_HALVED=$HALVED; fi
done
RETRIES=10 run_mt faults --fail-delete 500@0.05   # retried more, so every id still goes
FAULT=$SECS FAULT_PEAK=$PEAK FAULT_HALVED=$HALVED
FLOOR=$(echo "$N * $LAT / 1000 / $MT_PEAK" | bc -l)

printf 'export_perf: %d deleteable entries, %d ms latency per request\n' "$N" "$LAT"
printf '  serial baseline (new connection per DELETE, one at a time): %8.2f s   (best of 3)\n' "$BASE"
printf '  mt export, default settings (adaptive, 4 -> up to 16):      %8.2f s   (best of 3) up to %d at once, halved %d times\n' "$MT" "$MT_PEAK" "$MT_HALVED"
printf '  latency floor (%d deletes x %d ms / %d):                    %8.2f s   mt ratio to it %.1fx (the whole job: fetch, archive, deletes)\n' "$N" "$LAT" "$MT_PEAK" "$FLOOR" "$(echo "$MT / $FLOOR" | bc -l)"
printf '  mt export, 5%% of DELETEs answered 500:                      %8.2f s   up to %d at once, halved %d times (backs off: %s)\n' "$FAULT" "$FAULT_PEAK" "$FAULT_HALVED" "$([ "$FAULT_HALVED" -gt 0 ] && echo yes || echo NO)"
printf 'ratio mt export / serial seed loop, %d deletes at %d ms, default settings: %.1fx   (target >= 10x)\n' "$N" "$LAT" "$(echo "$BASE / $MT" | bc -l)"
