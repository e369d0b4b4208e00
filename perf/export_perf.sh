#!/usr/bin/env bash
# mt export against a serial baseline, both measured in this run (not a test: no pass/fail, a ratio).
#
# Study: one deleteable scale of 5,000 entries served by mt-sim with 5 ms latency on every request.
# Baseline: what the original tool did — one DELETE at a time, each on a new connection (Python http.client,
#   connection opened and closed per request; no process start per request, so the baseline is not inflated).
# mt export: the whole job (fetch, gzip archive, fsync, read-back, ledger, deletes, benchmark) with its
#   kept-alive connections, at CONCURRENCY 4 (the default) and 16.
# Usage: perf/export_perf.sh [ENTRIES] [LATENCY_MS]   (MT_BIN/MT_SIM_BIN: prebuilt binaries; PERF_SCALE shrinks N)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-$(python3 -c "print(max(100, int(5000 * float('${PERF_SCALE:-1}'))))")}
LAT=${2:-5}
if [ -z "${MT_BIN:-}" ] || [ -z "${MT_SIM_BIN:-}" ]; then
    swift build -c release >/dev/null
    MT_BIN=$PWD/.build/release/mt MT_SIM_BIN=$PWD/.build/release/mt-sim
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

start_sim() { # $1 = name; prints the API base
    cp -r "$WORK/study" "$WORK/$1-study"
    "$MT_SIM_BIN" --data "$WORK/$1-study" --pass-file "$WORK/pass" --latency-ms "$LAT" \
        --ledger "$WORK/$1-ledger.tsv" --url-file "$WORK/$1.url" >/dev/null 2>"$WORK/$1.log" &
    PIDS+=($!)
    for _ in $(seq 200); do [ -s "$WORK/$1.url" ] && break; sleep 0.05; done
    cat "$WORK/$1.url"
}

now() { date +%s.%N; }

# Baseline.
URL=$(start_sim baseline)
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
BASE=$(echo "$T1 - $T0" | bc -l)

run_mt() { # $1 = concurrency
    local url; url=$(start_sim "mt$1")
    cat > "$WORK/mt$1.yaml" <<YAML
perf:
  READY: true
  DELETE_MODE: true
  SERVER: "$url"
  USER: admin
  PASS_FILE: "$WORK/pass"
  PATH: "$WORK/data$1"
  CONCURRENCY: $1
YAML
    chmod 600 "$WORK/mt$1.yaml"
    # An existing (empty) benchmark: a first run on a new data directory would report its creation at critical.
    mkdir -p "$WORK/data$1/active_data" && echo '{}' > "$WORK/data$1/active_data/benchMark.json"
    local t0 t1; t0=$(now)
    "$MT_BIN" --config "$WORK/mt$1.yaml" export -q
    t1=$(now)
    local deleted; deleted=$(wc -l < "$WORK/mt$1-ledger.tsv")
    [ "$deleted" -eq "$N" ] || { echo "mt export deleted $deleted of $N" >&2; exit 1; }
    echo "$t1 - $t0" | bc -l
}
MT4=$(run_mt 4)
MT16=$(run_mt 16)

printf 'export_perf: %d deleteable entries, %d ms latency per request\n' "$N" "$LAT"
printf '  serial baseline (new connection per DELETE, one at a time): %8.2f s\n' "$BASE"
printf '  mt export, CONCURRENCY 4 (default), keep-alive:             %8.2f s   ratio %.1fx\n' "$MT4" "$(echo "$BASE / $MT4" | bc -l)"
printf '  mt export, CONCURRENCY 16, keep-alive:                      %8.2f s   ratio %.1fx   (target >= 10x)\n' "$MT16" "$(echo "$BASE / $MT16" | bc -l)"
