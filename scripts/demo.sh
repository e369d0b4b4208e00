#!/usr/bin/env bash
# make demo: the main job end to end on this machine. Builds mt and mt-sim (without TLS, and checks that this
# mt-sim refuses --tls), starts the simulator with a generated study and key pair, writes a temporary config with
# DELETE_MODE on, runs `mt export` (every scale), shows the summary, the archives and the CSVs, reruns (nothing
# new), and stops the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== building mt and mt-sim (without TLS)"
# Both from the simulator's package (Sim/), which has mt's package as a dependency: one build folder, so MTCore
# is compiled once for both. Without the package trait TLS: the demo serves plain HTTP on loopback, and
# swift-nio-ssl's BoringSSL would add about 4 minutes to a fresh build here.
BUILD_LOG=$(mktemp)
if ! { swift build --package-path Sim --product mt && swift build --package-path Sim --product mt-sim; } >"$BUILD_LOG" 2>&1; then
    cat "$BUILD_LOG"; exit 1
fi
rm -f "$BUILD_LOG"
BIN=$(swift build --package-path Sim --show-bin-path)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mt-demo.XXXXXX")
SIM_PID=
cleanup() {
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
    echo "== simulator stopped; demo files left in $WORK"
}
trap cleanup EXIT

# This mt-sim must refuse --tls at once, with exit 64 (usage), saying how to get TLS, and write nothing: the
# check costs no build, and it fails the demo if a TLS-less build ever starts serving plain HTTP for --tls
# (timeout: such a server would never exit by itself).
echo "== mt-sim --tls   (refused: this mt-sim has no TLS; make sim or make test build one with it)"
set +e
timeout 60 "$BIN/mt-sim" --generate --tls --data "$WORK/tls-study" --url-file "$WORK/tls.url" >/dev/null 2>"$WORK/tls.log"
CODE=$?
set -e
sed 's/^/   /' "$WORK/tls.log"
if [ "$CODE" -ne 64 ] || ! grep -q "built without TLS" "$WORK/tls.log" || [ -e "$WORK/tls-study" ] || [ -e "$WORK/tls.url" ]; then
    echo "demo: mt-sim --tls should exit 64 with 'built without TLS' and write nothing; it exited $CODE" >&2; exit 1
fi

printf 'demo-%s\n' "$RANDOM$RANDOM" > "$WORK/sim.pass"; chmod 600 "$WORK/sim.pass"
echo "== starting mt-sim with a generated study (20 participants) and a fresh key pair"
MT_CATALOGUE=${MT_CATALOGUE:-config/scales.yaml} "$BIN/mt-sim" --generate --data "$WORK/study" --participants 20 \
    --pass-file "$WORK/sim.pass" --ledger "$WORK/study-deletions.tsv" --url-file "$WORK/sim.url" \
    >/dev/null 2>"$WORK/sim.log" &
SIM_PID=$!
for _ in $(seq 600); do [ -s "$WORK/sim.url" ] && break; sleep 0.1; done
[ -s "$WORK/sim.url" ] || { echo "mt-sim did not start:"; cat "$WORK/sim.log"; exit 1; }
URL=$(cat "$WORK/sim.url")
echo "   serving $URL"

cat > "$WORK/config.yaml" <<YAML
demo:
  READY: true
  DELETE_MODE: true
  SERVER: "$URL"
  USER: admin
  PASS_FILE: "$WORK/sim.pass"
  PRIVATE_FILE: "$WORK/study/private.pem"
  PATH: "$WORK/data"
YAML
chmod 600 "$WORK/config.yaml"
echo "== config ($WORK/config.yaml)"
sed 's/^/   /' "$WORK/config.yaml"

echo "== mt export demo all        (first run: archive, CSV, delete)"
set +e
"$BIN/mt" --config "$WORK/config.yaml" export demo all --json > "$WORK/summary.json"
CODE=$?
set -e
python3 - "$WORK/summary.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("   %-22s %8s %8s %8s %8s %6s  %s" % ("SCALE", "FETCHED", "ARCHIVED", "WRITTEN", "DELETED", "LEFT", "STATUS"))
for s in r["servers"]:
    for c in s["scales"]:
        print("   %-22s %8d %8d %8d %8d %6d  %s" % (c["scale"], c["fetched"], c["archived"], c["written"], c["deleted"], c["left"], c["status"]))
print("   exit status %d" % r["exit"])
PY
echo "   (exit $CODE; the first run reports the new benchMark.json at critical, as the original mailed its admin)"

echo "== archives (raw_data) and their checksums"
ls -l "$WORK/data/raw_data" | sed 's/^/   /' | head -15
echo "== CSVs for analysts (active_data)"
ls -l "$WORK/data/active_data" | sed 's/^/   /' | head -15
FIRST=$(ls "$WORK/data/active_data"/*.csv | head -1)
echo "== head of $(basename "$FIRST")"
head -3 "$FIRST" | cut -c1-160 | sed 's/^/   /'
echo "== deletion ledger: $(awk -F"\t" "NF == 4" "$WORK/data/ledger/deletions.tsv" | wc -l) ids sent a DELETE, $(awk -F"\t" "NF == 5" "$WORK/data/ledger/deletions.tsv" | wc -l) confirmed gone, each with the archive that holds it"

echo "== mt export demo all        (rerun: nothing new)"
"$BIN/mt" --config "$WORK/config.yaml" export demo all
echo "   exit $?"

echo "== mt status demo --max-age 30m   (when exports last ran and worked; exit 1 and a mail once they stop)"
"$BIN/mt" --config "$WORK/config.yaml" status demo --max-age 30m | sed 's/^/   /'
echo "   exit ${PIPESTATUS[0]}"

echo "== mt verify demo --remote   (archives, checksums, ledgers, CSVs and the server agree)"
"$BIN/mt" --config "$WORK/config.yaml" verify demo --remote
echo "   exit $?"

echo "== mt benchmark demo          (the high-water marks)"
"$BIN/mt" --config "$WORK/config.yaml" benchmark demo | head -12 | sed 's/^/   /'

echo "== mt recover demo OA         (the CSV rebuilt from the archives alone)"
"$BIN/mt" --config "$WORK/config.yaml" recover demo OA
ls "$WORK/data/recovered_data" | sed 's/^/   /'

echo "== mt stats summary demo      (entries, participants, duplicates, missing, out of range)"
"$BIN/mt" --config "$WORK/config.yaml" stats summary demo | head -30 | sed 's/^/   /'

echo "== mt stats flow demo        (CONSORT flow per arm; mt-sim's test accounts excluded)"
"$BIN/mt" --config "$WORK/config.yaml" stats flow demo --exclude "$WORK/study/test_accounts.txt" | sed 's/^/   /'

echo "== mt scales codebook demo -o $WORK/codebook.md"
"$BIN/mt" --config "$WORK/config.yaml" scales codebook demo -o "$WORK/codebook.md"

echo "== mt stats report demo --html $WORK/report.html   (opens on the flow diagram and the overview)"
"$BIN/mt" --config "$WORK/config.yaml" stats report demo --exclude "$WORK/study/test_accounts.txt" --html "$WORK/report.html"
echo "   open $WORK/report.html in a browser"

echo "== mt stats dataset demo --format csv|sav|dta|sqlite   (the study as one table, test accounts excluded)"
mkdir -p "$WORK/dataset"
for f in csv sav dta sqlite; do
    "$BIN/mt" -q --config "$WORK/config.yaml" stats dataset demo --items --exclude "$WORK/study/test_accounts.txt" \
        --format "$f" -o "$WORK/dataset/study.$f"
done
ls -l "$WORK/dataset" | sed 's/^/   /'
if command -v sqlite3 >/dev/null; then
    echo "   sqlite3: mean OA_SUM per arm at PRE"
    sqlite3 "$WORK/dataset/study.sqlite" "SELECT arm, count(*), round(avg(OA_SUM), 2) FROM dataset WHERE session = 'PRE' GROUP BY arm" | sed 's/^/     /'
fi
