#!/usr/bin/env bash
# Benchmark, not a test: peak resident memory of `mt recover` over ~1 GB of archive content (JSON as the server
# sent it), split into 64 archives, half original-tool raw .json files and half gzip archives, with overlapping
# ids. Target: peak RSS < 150 MB, i.e. bounded by the largest single archive, not the total.
# Encrypted values come from a pool of 256 ciphertexts so that the run measures memory, not RSA.
#   MT_PERF_RECOVER_MB  total MB of archive content (default 1024 × PERF_SCALE; e.g. 64 for a quick run)
#   PERF_SCALE          shrinks the default data set (make perf PERF_SCALE=0.1 for a quick look)
#   MT_BIN              the mt binary (default .build/release/mt, built when missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
total_mb=${MT_PERF_RECOVER_MB:-$(awk -v s="${PERF_SCALE:-1}" 'BEGIN { n = int(1024 * s); print (n < 64 ? 64 : n) }')}
mt=${MT_BIN:-$root/.build/release/mt}
[ -x "$mt" ] || (cd "$root" && swift build -c release --product mt >&2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/data"
mkdir -p "$data/raw_data" "$data/active_data"
(umask 077 && openssl genrsa -traditional -out "$work/key.pem" 2048 2>/dev/null)
openssl rsa -in "$work/key.pem" -pubout -out "$work/pub.pem" 2>/dev/null
cat > "$work/mt.yaml" <<YAML
perf:
  SERVER: https://study.example.edu/api/
  USER: perf
  PATH: $data
  PRIVATE_FILE: $work/key.pem
YAML
chmod 600 "$work/mt.yaml"

archives=64
per_mb=$(( total_mb / archives )); [ "$per_mb" -ge 1 ] || per_mb=1
# An entry is ~1 KB: 640 bytes of filler plus the fields and a 344-byte ciphertext.
rows=$(( per_mb * 1024 ))
python3 "$root/perf/gen_encrypted.py" "$work/pub.pem" "$rows" "$work/one.json" --pool 256 --pad 640
for i in $(seq 0 $(( archives - 1 ))); do
  # Each archive repeats half of the previous one's ids (what a crash between archive and delete leaves).
  first=$(( i * rows / 2 + 1 ))
  python3 - "$work/one.json" "$first" "$work/a.json" <<'PY'
import re, sys
src, first, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = open(src, encoding="utf-8").read()
open(out, "w", encoding="utf-8").write(re.sub(r'"id": (\d+)', lambda m: f'"id": {int(m.group(1)) + first - 1}', text))
PY
  if [ $(( i % 2 )) = 0 ]; then
    # Original tool: local time, months by name, uncompressed.
    stamp=$(date -d "@$(( 1500000000 + i * 86400 ))" +%b_%d_%Y_%H_%M_%S)
    mv "$work/a.json" "$data/raw_data/Perf_$stamp.json"
  else
    stamp=$(date -u -d "@$(( 1500000000 + i * 86400 ))" +%Y-%m-%dT%H-%M-%S.000000Z)
    gzip -c "$work/a.json" > "$data/raw_data/${stamp}_Perf.json.gz"
    rm "$work/a.json"
  fi
done
content_mb=$(( per_mb * archives ))

python3 - "$mt" "$work/mt.yaml" "$content_mb" <<'PY'
import resource, subprocess, sys, time
mt, config, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.time()
r = subprocess.run([mt, "--config", config, "recover", "perf", "Perf"], capture_output=True, text=True)
elapsed = time.time() - start
if r.returncode != 0:
    sys.exit(f"mt recover failed ({r.returncode}): {r.stderr}")
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(r.stdout.strip())
print(f"recover: ~{mb} MB of archives in {elapsed:.1f}s; peak RSS {peak_mb:.0f} MB; "
      f"ratio to the 150 MB target {peak_mb / 150:.2f} (target < 1.00)")
PY
