#!/usr/bin/env bash
# mt stats dataset against pandas doing the same merge and scoring, on a generated study measured in the same
# run: a participant table (two arms, admins, test accounts) and four scored scales (OA, DASS21_AS, DASS21_DS,
# QOL: scaled sums and a mean, the no-answer codes skipped) over PRE, SESSION1…SESSION8 and POST, 2% repeated
# answers (the first counts). Both dedupe per identity, score, join the arm, drop excluded participants and
# write one long CSV. Prints wall time and peak memory of both, the ratios, and whether the outputs agree.
# Targets: mt at least 3× faster than pandas, at most 0.5× its memory.
# Usage: perf/dataset_perf.sh [PARTICIPANTS]   (default 20,000; PERF_SCALE=0.1 shrinks it; needs pandas, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-$(awk -v s="${PERF_SCALE:-1}" 'BEGIN { printf "%d", 20000 * s }')}"
python3 -c 'import pandas' 2>/dev/null || { echo "dataset_perf: pandas is not installed (pip install pandas)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "dataset_perf: GNU time is missing (apt-get install time)" >&2; exit 1; }
if [ -n "${MT_BIN:-}" ]; then MT="$MT_BIN"; else
    swift build -c release --product mt >/dev/null 2>&1
    MT="$(swift build -c release --show-bin-path 2>/dev/null)/mt"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mt-dataset-perf.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/in" "$WORK/mt"

python3 - "$WORK/in" "$PEOPLE" <<'PY'
import random, sys
d, people = sys.argv[1], int(sys.argv[2])
rnd = random.Random(11)
sessions = ["PRE"] + [f"SESSION{i}" for i in range(1, 9)] + ["POST"]
scales = {
    "OA": (["anxious_freq", "anxious_sev", "avoid", "interfere", "interfere_social"], 4, 555),
    "DASS21_AS": (["dryness", "breathing", "trembling", "worry", "panic", "heart", "scared"], 3, 555),
    "DASS21_DS": (["nopositive", "difficult", "hopeless", "blue", "noenthusiastic", "noworth", "meaningless"], 3, -1),
    "QOL": (["material", "health", "relationships", "children", "spouse", "friend", "helping", "participating",
             "learning", "understanding", "work", "expression", "socializing", "reading", "recreation", "independence"], 5, 555),
}
with open(f"{d}/ParticipantExportDAO_Jan_01_2020.csv", "w") as f:
    f.write("admin,cbmCondition,id,over18,prime,testAccount\r\n")
    for p in range(1, people + 1):
        f.write(f"{int(rnd.random() < 0.01)},{rnd.choice(['POSITIVE', 'FIFTY_FIFTY'])},{p},{int(rnd.random() > 0.01)},ANXIETY,{int(rnd.random() < 0.01)}\r\n")
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
ident = 0
for name, (items, hi, code) in scales.items():
    lo = 1 if name == "QOL" else 0
    with open(f"{d}/{name}_Jan_01_2020.csv", "w") as f:
        f.write(",".join(["date", "id", "participant", "session", "tag"] + items) + "\r\n")
        for p in range(1, people + 1):
            for k, s in enumerate(sessions):
                for _ in range(2 if rnd.random() < 0.02 else 1):
                    ident += 1
                    cells = [str(code) if rnd.random() < 0.03 else ("" if rnd.random() < 0.02 else str(rnd.randint(lo, hi))) for _ in items]
                    date = f"Mon, {1 + k:02d} {months[(p + k) % 12]} 2019 {p % 24:02d}:{k:02d}:{ident % 60:02d} -0400"
                    f.write(f'"{date}",{ident},{p},{s},,' + ",".join(cells) + "\r\n")
PY

cat > "$WORK/pandas_dataset.py" <<'PY'
import glob, sys
import pandas as pd
d, out = sys.argv[1], sys.argv[2]
pt = pd.read_csv(f"{d}/ParticipantExportDAO_Jan_01_2020.csv", dtype={"id": str})
pt = pt[(pt["testAccount"] != 1) & (pt["admin"] != 1) & (pt["over18"] == 1)]
pt["arm"] = pt["cbmCondition"] + "/" + pt["prime"]
scores = {"OA": [("SUM", 5, 555)], "DASS21_AS": [("eligibilityScore", 14, 555), ("SUM", 7, 555)],
          "DASS21_DS": [("SUM", 7, -1)], "QOL": [("SUM", 16, 555)]}
sessions = ["ELIGIBLE", "PRE"] + [f"SESSION{i}" for i in range(1, 9)] + ["POST"]
merged = None
for name, defs in scores.items():
    df = pd.read_csv(f"{d}/{name}_Jan_01_2020.csv", dtype={"participant": str})
    df = df.drop_duplicates(["participant", "session", "tag"], keep="first")
    items = [c for c in df.columns if c not in ("date", "id", "participant", "session", "tag")]
    df["_d"] = pd.to_datetime(df["date"], format="%a, %d %b %Y %H:%M:%S %z", utc=True)
    x = df[items]
    out_cols = {"participant": df["participant"], "session": df["session"], "_d_" + name: df["_d"]}
    for score, factor, code in defs:
        v = x.mask(x == code)
        out_cols[f"{name}_{score}"] = v.mean(axis=1) * factor
    part = pd.DataFrame(out_cols)
    merged = part if merged is None else merged.merge(part, on=["participant", "session"], how="outer")
merged = merged[merged["participant"].isin(set(pt["id"]))]
dates = merged[[c for c in merged.columns if c.startswith("_d_")]]
merged["date"] = dates.min(axis=1).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
merged = merged.merge(pt[["id", "arm"]], left_on="participant", right_on="id")
merged["_o"] = merged["session"].map({s: i for i, s in enumerate(sessions)})
merged["_p"] = merged["participant"].astype(int)
merged = merged.sort_values(["_p", "_o"])
cols = ["participant", "arm", "session", "date"] + [c for c in merged.columns if "_" in c and not c.startswith("_") and c != "id"]
merged[cols].to_csv(out, index=False)
PY

measure() { # prints "seconds kilobytes"
    local tag="$1"; shift
    /usr/bin/time -f "%e %M" -o "$WORK/time.$tag" "$@" >/dev/null 2>"$WORK/err.$tag" || { cat "$WORK/err.$tag" >&2; exit 1; }
    cat "$WORK/time.$tag"
}
echo "dataset_perf: $PEOPLE participants × 10 sessions × 4 scored scales, $(du -sm "$WORK/in" | cut -f1) MB of CSV"
PT=; PM=0; MTT=; MTM=0
for _ in 1 2 3; do
    read -r t m < <(measure pandas python3 "$WORK/pandas_dataset.py" "$WORK/in" "$WORK/pandas.csv")
    PT=$(awk -v a="${PT:-1e9}" -v b="$t" 'BEGIN { print (b < a ? b : a) }'); PM=$(( m > PM ? m : PM ))
    read -r t m < <(measure mt "$MT" -q stats dataset "$WORK"/in/*.csv --format csv -o "$WORK/mt/study.csv")
    MTT=$(awk -v a="${MTT:-1e9}" -v b="$t" 'BEGIN { print (b < a ? b : a) }'); MTM=$(( m > MTM ? m : MTM ))
done 2>/dev/null || true
AGREE=0
python3 - "$WORK/mt/study.csv" "$WORK/pandas.csv" <<'PY' || AGREE=1
import sys
import pandas as pd
a, b = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
cols = list(b.columns)
ok = len(a) == len(b) and set(cols) <= set(a.columns)
if ok:
    a = a[cols].reset_index(drop=True); b = b.reset_index(drop=True)
    for c in cols:
        if a[c].dtype.kind == "f":
            ok &= bool(((a[c] - b[c]).abs().fillna(0) < 1e-9).all() and (a[c].isna() == b[c].isna()).all())
        else:
            ok &= bool((a[c].astype(str) == b[c].astype(str)).all())
print(f"rows: mt {len(a)}, pandas {len(b)};", "scores, dates and arms agree with pandas" if ok else "DIFFER from pandas")
sys.exit(0 if ok else 1)
PY
awk -v pt="$PT" -v pm="$PM" -v mt="$MTT" -v mm="$MTM" 'BEGIN {
    printf "pandas:        %6.2f s wall  %7.1f MB peak\n", pt, pm / 1024
    printf "mt dataset:    %6.2f s wall  %7.1f MB peak\n", mt, mm / 1024
    sp = (mt > 0) ? pt / mt : 0; mr = (pm > 0) ? mm / pm : 0
    printf "dataset speed ratio:   %.2fx faster than pandas (target >= 3)  %s\n", sp, (sp >= 3 ? "ok" : "MISSED")
    printf "dataset memory ratio:  %.2fx of pandas (target <= 0.5)  %s\n", mr, (mr <= 0.5 ? "ok" : "MISSED")
}'
exit "$AGREE"
