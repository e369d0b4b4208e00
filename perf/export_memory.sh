#!/usr/bin/env bash
# Benchmark, not a test: wall time and peak resident memory of `mt export` on one large scale answer, archive only
# (no key, no deletes), against the original tool's way in the same run: one GET read whole and parsed with
# python's json, the raw body written to a file. Study: 200,000 entries of ~560 bytes (a 113 MB answer) served by
# mt-sim; PERF_SCALE shrinks the entry count. Target: mt's peak RSS <= 64 MB on the 113 MB answer, and wall time
# no worse than the original's way. Then (unless PERF_GB=0 or PERF_SCALE is below 1) the same entries on a 1 GB
# answer (1,800,000 entries), mt alone, served by a small streaming server (mt-sim holds a study in memory):
# target <= 100 MB.
#   MT_BIN / MT_SIM_BIN   prebuilt binaries (scripts/perf.sh builds them once)
set -euo pipefail
cd "$(dirname "$0")/.."
N=$(python3 -c "print(max(2000, int(200000 * float('${PERF_SCALE:-1}'))))")
MT=${MT_BIN:-.build/release/mt}
SIM=${MT_SIM_BIN:-Sim/.build/release/mt-sim}
[ -x "$MT" ] || swift build -c release --product mt >/dev/null
[ -x "$SIM" ] || swift build --package-path Sim -c release --product mt-sim >/dev/null
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mt-export-memory.XXXXXX")
SIM_PID=
cleanup() { [ -n "$SIM_PID" ] && { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; }; rm -rf "$WORK"; }
trap cleanup EXIT

printf 'perf-pass-%s\n' "$RANDOM$RANDOM" > "$WORK/pass"; chmod 600 "$WORK/pass"
# One generator for both answers: N entries of ~560 bytes in one JSON array.
cat > "$WORK/generate.py" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w", encoding="utf-8") as f:
    f.write("[")
    for i in range(1, n + 1):
        row = {"id": i, "date": "Sun, 29 Nov 2026 03:40:12 +0000", "session": "SESSION%d" % (i % 8 + 1),
               "tag": "t", "timeOnPage": 12.5, "participantId": 1000 + i % 5000}
        for k in range(20):
            row["item%02d" % k] = (i + k) % 5
        row["text"] = "réponse libre, \"%d\" 日本語のテキスト %s" % (i, "x" * 105)
        f.write(("," if i > 1 else "") + json.dumps(row, ensure_ascii=False))
    f.write("]")
PY
mkdir -p "$WORK/study"
python3 "$WORK/generate.py" "$WORK/study/Big.json" "$N"
echo '{}' > "$WORK/study/deleteable.json"
"$SIM" --data "$WORK/study" --pass-file "$WORK/pass" --ledger "$WORK/sim-ledger.tsv" --url-file "$WORK/url" \
    >/dev/null 2>"$WORK/sim.log" &
SIM_PID=$!
for _ in $(seq 1200); do [ -s "$WORK/url" ] && break; sleep 0.1; done
[ -s "$WORK/url" ] || { echo "mt-sim did not start:"; cat "$WORK/sim.log"; exit 1; }
URL=$(cat "$WORK/url")

cat > "$WORK/original.py" <<'PY'
import base64, json, sys, urllib.request
url, passfile, out = sys.argv[1], sys.argv[2], sys.argv[3]
auth = "Basic " + base64.b64encode(("admin:" + open(passfile).read().splitlines()[0]).encode()).decode()
body = urllib.request.urlopen(urllib.request.Request(url + "/export/Big", headers={"Authorization": auth})).read()
entries = json.loads(body)
ids = [e["id"] for e in entries]
with open(out, "wb") as f:
    f.write(body)
print(len(ids), len(body))
PY
cat > "$WORK/mt.yaml" <<YAML
perf:
  READY: true
  SERVER: "$URL"
  USER: admin
  PASS_FILE: "$WORK/pass"
  PATH: "$WORK/data"
YAML
chmod 600 "$WORK/mt.yaml"

measure() { # tag command…: prints "seconds peak_kB" (GNU time)
    local tag=$1; shift
    /usr/bin/time -f "%e %M" -o "$WORK/time.$tag" "$@" >"$WORK/out.$tag" 2>"$WORK/err.$tag" \
        || { echo "$tag failed:"; cat "$WORK/err.$tag"; exit 1; }
    cat "$WORK/time.$tag"
}
# Alternating, best of two each: a neighbour's burst of work on a shared machine weighs less.
PT=1e9 PM=0 MTT=1e9 MTM=0
for run in 1 2; do
    mkdir -p "$WORK/data$run/active_data" && echo '{}' > "$WORK/data$run/active_data/benchMark.json"
    sed -i "s|PATH: .*|PATH: \"$WORK/data$run\"|" "$WORK/mt.yaml"
    read -r t m < <(measure original python3 "$WORK/original.py" "$URL" "$WORK/pass" "$WORK/original.json")
    PT=$(awk -v a="$PT" -v b="$t" 'BEGIN { print (b < a ? b : a) }'); PM=$(( m > PM ? m : PM ))
    read -r t m < <(measure mt "$MT" --config "$WORK/mt.yaml" export -q perf Big)
    MTT=$(awk -v a="$MTT" -v b="$t" 'BEGIN { print (b < a ? b : a) }'); MTM=$(( m > MTM ? m : MTM ))
done
BYTES=$(stat -c %s "$WORK/original.json")
ls "$WORK/data1/raw_data"/*_Big.json.gz >/dev/null || { echo "mt export wrote no archive"; exit 1; }

awk -v n="$N" -v b="$BYTES" -v pt="$PT" -v pm="$PM" -v mt="$MTT" -v mm="$MTM" -v s="${PERF_SCALE:-1}" 'BEGIN {
    printf "export_memory: one scale of %d entries, a %.0f MB answer (PERF_SCALE %s), archive only\n", n, b / 1e6, s
    printf "  original way (urllib + json, body to a file): %6.2f s  %7.1f MB peak\n", pt, pm / 1024
    printf "  mt export:                                    %6.2f s  %7.1f MB peak\n", mt, mm / 1024
    ok = (mm / 1024 <= 64) ? "ok" : "MISSED"
    printf "target mt export peak RSS <= 64 MB on a 113 MB answer: %.1f MB on %.0f MB  %s\n", mm / 1024, b / 1e6, ok
    r = (pt > 0) ? mt / pt : 0
    printf "ratio mt export / original wall time: %.2f (target <= 1)  %s\n", r, (r <= 1 ? "ok" : "MISSED")
}'
[ "${PERF_GB:-1}" != 0 ] && awk -v s="${PERF_SCALE:-1}" 'BEGIN { exit !(s >= 1) }' || exit 0

mkdir -p "$WORK/gb"
python3 "$WORK/generate.py" "$WORK/gb/Big.json" 1800000
cat > "$WORK/gb/serve.py" <<'PY'
# Loopback only: GET /api/export lists the scale, GET /api/export/Big streams the file with its Content-Length.
import http.server, json, os, socketserver, sys
path, portfile = sys.argv[1], sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def do_GET(self):
        if self.path == "/api/export":
            body = json.dumps([{"name": "Big", "size": 1800000, "deleteable": False}]).encode()
        elif self.path.startswith("/api/export/Big"):
            body = None
        else:
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) if body is not None else os.path.getsize(path)))
        self.end_headers()
        if body is not None:
            self.wfile.write(body); return
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk: break
                self.wfile.write(chunk)
server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f: f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
PY
python3 "$WORK/gb/serve.py" "$WORK/gb/Big.json" "$WORK/gb/port" & GB_PID=$!
trap 'kill $GB_PID 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do [ -s "$WORK/gb/port" ] && break; sleep 0.1; done
mkdir -p "$WORK/gb/data/active_data" && echo '{}' > "$WORK/gb/data/active_data/benchMark.json"
sed -e "s|SERVER: .*|SERVER: \"http://127.0.0.1:$(cat "$WORK/gb/port")/api\"|" -e "s|PATH: .*|PATH: \"$WORK/gb/data\"|" \
    "$WORK/mt.yaml" > "$WORK/gb/mt.yaml"
chmod 600 "$WORK/gb/mt.yaml"
read -r t m < <(measure gb "$MT" --config "$WORK/gb/mt.yaml" export -q perf Big)
GB=$(stat -c %s "$WORK/gb/Big.json")
awk -v b="$GB" -v t="$t" -v m="$m" 'BEGIN {
    printf "export_memory: one scale of 1800000 entries, a %.0f MB answer, archive only: %.2f s, %.1f MB peak\n", b / 1e6, t, m / 1024
    printf "target mt export peak RSS <= 100 MB on a 1 GB answer: %.1f MB on %.0f MB  %s\n", m / 1024, b / 1e6, (m / 1024 <= 100 ? "ok" : "MISSED")
}'
