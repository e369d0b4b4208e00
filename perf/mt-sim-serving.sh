#!/usr/bin/env bash
# mt-sim serving speed: repeated GETs of its largest scale (JSON assembled per request from the in-memory store,
# behind basic auth) against python3's http.server sending the same bytes from a file, both over loopback with
# one curl process reusing its connection. A benchmark, not a test: it prints figures and a ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
SIM=${MT_SIM_BIN:-Sim/.build/release/mt-sim}
[ -x "$SIM" ] || swift build --package-path Sim -c release --product mt-sim >/dev/null
PARTICIPANTS=$(python3 -c "print(max(20, int(2000 * float('${PERF_SCALE:-1}'))))")
N=${PERF_REQUESTS:-40}
tmp=$(mktemp -d)
sim_pid="" py_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; [ -n "$py_pid" ] && kill "$py_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$SIM" --generate --participants "$PARTICIPANTS" --data "$tmp/study" --url-file "$tmp/url" >/dev/null 2>"$tmp/sim.log" &
sim_pid=$!
for _ in $(seq 600); do [ -s "$tmp/url" ] && break; sleep 0.1; done
URL=$(cat "$tmp/url")
scale=$(curl -s -u admin:mt-sim "$URL/export" | python3 -c 'import json,sys; print(max(json.load(sys.stdin), key=lambda s: s["size"])["name"])')
mkdir "$tmp/www"
curl -s -u admin:mt-sim "$URL/export/$scale" -o "$tmp/www/body.json"
bytes=$(stat -c %s "$tmp/www/body.json")

python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/py.log" 2>&1 &
py_pid=$!
for _ in $(seq 100); do grep -q "port" "$tmp/py.log" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o 'port [0-9]*' "$tmp/py.log" | head -1 | cut -d' ' -f2)

run() { # url [curl options…]: seconds for N sequential GETs in one curl process
  local url=$1; shift
  local args=()
  for _ in $(seq "$N"); do args+=("$url" -o /dev/null); done
  local t0 t1
  t0=$(date +%s.%N)
  curl -s "$@" "${args[@]}"
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}
sim_s=$(run "$URL/export/$scale" -u admin:mt-sim)
py_s=$(run "http://127.0.0.1:$port/body.json")
python3 - <<PY
mb = $bytes * $N / 1e6
print(f"mt-sim: {$N} GETs of {'$scale'} ({$bytes} bytes, {$PARTICIPANTS} participants): {$sim_s} s, {mb / $sim_s:.1f} MB/s")
print(f"python3 http.server, same bytes from a file: {$py_s} s, {mb / $py_s:.1f} MB/s")
print(f"ratio mt-sim/python3 throughput: {$py_s / $sim_s:.2f} (above 1: mt-sim is faster)")
PY
