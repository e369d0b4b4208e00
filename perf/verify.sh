#!/bin/sh
# mt verify throughput (not a test): a data directory of gzip archives, CSVs and ledgers is checked by
# `mt verify`, and the same archives by `gzip -t` plus `sha256sum` (the bare minimum any check must do, one
# core), measured in the same run. Prints the ratio: above 1 means mt verify (all cores, JSON parsed, ids
# matched with CSV rows) is faster than that single-core floor.
#
#   perf/verify.sh [ARCHIVES] [ENTRIES_PER_ARCHIVE]      (defaults 200 and 2000, times PERF_SCALE)
set -eu
cd "$(dirname "$0")/.."
ARCHIVES=${1:-$(python3 -c "print(max(2, int(200 * ${PERF_SCALE:-1})))")}
ENTRIES=${2:-2000}
MT=${MT_BIN:-.build/release/mt}
[ -x "$MT" ] || swift build -c release --product mt >/dev/null
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK" "$ARCHIVES" "$ENTRIES" <<'PY'
import gzip, hashlib, json, os, sys
work, archives, entries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = os.path.join(work, "data")
for d in ("raw_data", "active_data", "ledger"):
    os.makedirs(os.path.join(data, d), mode=0o700)
os.chmod(data, 0o700)
sums, rows, next_id = [], [], 1
for a in range(archives):
    items = []
    for _ in range(entries):
        items.append({"id": next_id, "date": "Sun, 29 Nov 2026 03:40:12 +0000", "session": "PRE",
                      "answer": "Ça va, 很好 \"ok\"", "participantRSA": "participant-%d" % next_id, "score": next_id % 5})
        rows.append('%d,"Ça va, 很好 ""ok""",participant-%d,%d,PRE' % (next_id, next_id, next_id % 5))
        next_id += 1
    name = "2026-11-%02dT03-%02d-%02d.000000Z_OA.json.gz" % (1 + a // 3600, a // 60 % 60, a % 60)
    blob = gzip.compress(json.dumps(items).encode())
    with open(os.path.join(data, "raw_data", name), "wb") as f:
        f.write(blob)
    sums.append("%s  %s\n" % (hashlib.sha256(blob).hexdigest(), name))
with open(os.path.join(data, "raw_data", "SHA256SUMS"), "w") as f:
    f.writelines(sums)
with open(os.path.join(data, "active_data", "OA_Nov_29_2026.csv"), "w", newline="") as f:
    f.write("id,answer,participantRSA,score,session\r\n" + "\r\n".join(rows) + "\r\n")
with open(os.path.join(data, "active_data", "benchMark.json"), "w") as f:
    json.dump({"OA": {"current": next_id - 1, "deleteable": True}}, f)
for root, dirs, files in os.walk(data):
    for n in files:
        os.chmod(os.path.join(root, n), 0o600)
with open(os.path.join(work, "mt.yaml"), "w") as f:
    f.write("perf:\n  SERVER: http://127.0.0.1:9/api/\n  PATH: data\n  PRIVATE_FILE: unused.pem\n")
os.chmod(os.path.join(work, "mt.yaml"), 0o600)
PY

now() { python3 -c 'import time; print(time.time())'; }
t0=$(now)
for f in "$WORK"/data/raw_data/*.json.gz; do gzip -t "$f"; done
(cd "$WORK/data/raw_data" && sha256sum -c --quiet SHA256SUMS)
t1=$(now)
"$MT" --config "$WORK/mt.yaml" verify perf -q
t2=$(now)
python3 - "$t0" "$t1" "$t2" "$ARCHIVES" "$ENTRIES" <<'PY'
import sys
t0, t1, t2 = map(float, sys.argv[1:4])
n = int(sys.argv[4]) * int(sys.argv[5])
ref, mt = t1 - t0, t2 - t1
print("verify: %d entries in %s archives" % (n, sys.argv[4]))
print("  reference gzip -t + sha256sum (1 core): %.2f s" % ref)
print("  mt verify (all checks, all cores):      %.2f s  (%.0f entries/s)" % (mt, n / mt))
print("  ratio reference/mt: %.2f" % (ref / mt))
PY
