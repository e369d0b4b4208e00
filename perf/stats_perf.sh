#!/usr/bin/env bash
# mt stats summary against pandas on a generated 1,000,000-row × 20-column CSV, measured in the same run.
# Prints wall time and peak memory (maximum resident set) of both, and the ratios.
# Targets: mt at least 2× faster than pandas, at most 0.5× its memory.
# Usage: perf/stats_perf.sh [ROWS]     (needs python3 with pandas, and GNU time: apt-get install time)
# Uses $MT_BIN when set (scripts/perf.sh builds once); PERF_SCALE=0.1 shrinks the data set.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-$(awk -v s="${PERF_SCALE:-1}" 'BEGIN { printf "%d", 1000000 * s }')}"

python3 -c 'import pandas' 2>/dev/null || { echo "stats_perf: pandas is not installed (pip install pandas)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "stats_perf: GNU time is missing (apt-get install time)" >&2; exit 1; }

if [ -n "${MT_BIN:-}" ]; then
    MT="$MT_BIN"
else
    swift build -c release --product mt >/dev/null 2>&1
    MT="$(swift build -c release --show-bin-path 2>/dev/null)/mt"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mt-stats-perf.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
CSV="$WORK/RR_Jan_01_2020.csv"

# 20 columns: id, date, participantId, session, tag, timeOnPage and 14 RR items (valid 0-3 and -1).
# About 5% of item cells are empty, 1% out of range, 2% of rows repeat an earlier answer.
python3 - "$CSV" "$ROWS" <<'PY'
import random, sys
path, rows = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
items = [f"{s}_{k}" for s in ["blood_test", "elevator", "job", "lunch"] for k in ["NF", "NS", "PF", "PS"]][:14]
sessions = ["PRE", "SESSION1", "SESSION2", "SESSION3", "SESSION4", "POST"]
days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
header = ["id", "date", "participantId", "session", "tag", "timeOnPage"] + items
with open(path, "w", newline="") as f:
    f.write(",".join(header) + "\r\n")
    for i in range(rows):
        p = rnd.randrange(rows // 4) if rnd.random() > 0.02 else 0
        s = sessions[rnd.randrange(6)]
        cells = []
        for _ in items:
            r = rnd.random()
            cells.append("" if r < 0.05 else ("7" if r < 0.06 else ("-1" if r < 0.08 else str(rnd.randrange(4)))))
        date = f"{days[i % 7]}, {1 + i % 28:02d} {months[i % 12]} 2019 {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} -0400"
        f.write(f'{i + 1},"{date}",{p},{s},,{rnd.randrange(1, 900)},' + ",".join(cells) + "\r\n")
PY

cat > "$WORK/pandas_summary.py" <<'PY'
import sys, pandas as pd
df = pd.read_csv(sys.argv[1])
missing = df.isnull().sum()
unique = df.drop_duplicates(subset=["participantId", "session", "tag"])
print(len(df), int(df["participantId"].nunique()), len(df) - len(unique), int(missing.sum()))
PY

measure() { # prints "seconds kilobytes cpu-seconds" of the command, its stdout to $WORK/out.$1
    local tag="$1"; shift
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.$tag" "$@" >"$WORK/out.$tag" 2>"$WORK/err.$tag"
    awk '{ print $1, $2, $3 + $4 }' "$WORK/time.$tag"
}

echo "stats_perf: $ROWS rows × 20 columns, $(du -m "$CSV" | cut -f1) MB"
# Best of three runs each, alternating, so a neighbour's burst of work on a shared machine weighs less.
PT=; PM=0; PC=; MTT=; MTM=0; MTC=
for _ in 1 2 3; do
    read -r t m c < <(measure pandas python3 "$WORK/pandas_summary.py" "$CSV")
    PT=$(awk -v a="${PT:-1e9}" -v b="$t" 'BEGIN { print (b < a ? b : a) }'); PC=$(awk -v a="${PC:-1e9}" -v b="$c" 'BEGIN { print (b < a ? b : a) }')
    PM=$(( m > PM ? m : PM ))
    read -r t m c < <(measure mt "$MT" stats summary --json "$CSV")
    MTT=$(awk -v a="${MTT:-1e9}" -v b="$t" 'BEGIN { print (b < a ? b : a) }'); MTC=$(awk -v a="${MTC:-1e9}" -v b="$c" 'BEGIN { print (b < a ? b : a) }')
    MTM=$(( m > MTM ? m : MTM ))
done

read -r PE PP PD PMISS < "$WORK/out.pandas"
AGREE=0
python3 - "$WORK/out.mt" "$PE" "$PP" "$PD" "$PMISS" <<'PY' || AGREE=1
import json, sys
s = json.load(open(sys.argv[1]))[0]
want = [int(x) for x in sys.argv[2:]]
got = [s["entries"], s["participants"], s["duplicates"], sum(s["missing"].values())]
print("counts (entries, participants, duplicates, missing):", got, "agree with pandas" if got == want else f"DIFFER from pandas {want}")
sys.exit(0 if got == want else 1)
PY

awk -v pt="$PT" -v pm="$PM" -v pc="$PC" -v mt="$MTT" -v mm="$MTM" -v mc="$MTC" 'BEGIN {
    printf "pandas:        %6.2f s wall  %6.2f s cpu  %7.1f MB peak\n", pt, pc, pm / 1024
    printf "mt stats:      %6.2f s wall  %6.2f s cpu  %7.1f MB peak\n", mt, mc, mm / 1024
    sp = (mt > 0) ? pt / mt : 0; mr = (pm > 0) ? mm / pm : 0
    printf "speed ratio:   %.2fx faster than pandas (target >= 2)  %s\n", sp, (sp >= 2 ? "ok" : "MISSED")
    printf "memory ratio:  %.2fx of pandas (target <= 0.5)  %s\n", mr, (mr <= 0.5 ? "ok" : "MISSED")
}'
exit "$AGREE"
