#!/usr/bin/env bash
# Benchmark, not a test: `mt decrypt` end to end (read, base64, RSA, UTF-8, CSV write) against
# `openssl speed -multi <cores> rsaN` private-key operations per second, both measured in this run.
# Prints one ratio per key size; target >= 0.90.
#   MT_PERF_DECRYPT_ROWS  values for 2048-bit keys (default 20000 × PERF_SCALE; 4096-bit keys use a quarter)
#   PERF_SCALE            shrinks the default data set (make perf PERF_SCALE=0.1 for a quick look)
#   MT_PERF_SECONDS       seconds per openssl speed measurement (default 5)
#   MT_BIN                the mt binary (default .build/release/mt, built when missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${MT_PERF_DECRYPT_ROWS:-$(awk -v s="${PERF_SCALE:-1}" 'BEGIN { n = int(20000 * s); print (n < 400 ? 400 : n) }')}
secs=${MT_PERF_SECONDS:-5}
mt=${MT_BIN:-$root/.build/release/mt}
[ -x "$mt" ] || (cd "$root" && swift build -c release --product mt >&2)
cores=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for bits in 2048 4096; do
  n=$rows
  [ "$bits" = 4096 ] && n=$(( rows / 4 ))
  (umask 077 && openssl genrsa -traditional -out "$work/key$bits.pem" "$bits" 2>/dev/null)
  openssl rsa -in "$work/key$bits.pem" -pubout -out "$work/pub$bits.pem" 2>/dev/null
  python3 "$root/perf/gen_encrypted.py" "$work/pub$bits.pem" "$n" "$work/in$bits.json"

  # Wall clock on both sides (-elapsed): the same basis as mt's wall-clock rate.
  ref=$(openssl speed -elapsed -multi "$cores" -seconds "$secs" -mr "rsa$bits" 2>/dev/null \
        | awk -F: '/^\+F2:/ && !/from/ { print $4 }' | tail -1)
  # CPU time per operation, on a busy machine the fairer comparison: one openssl process, CPU-time divisor.
  ref_cpu=$(openssl speed -seconds "$secs" -mr "rsa$bits" 2>/dev/null | awk -F: '/^\+F2:/ { print $4 }' | tail -1)
  python3 - "$mt" "$bits" "$n" "$ref" "$ref_cpu" "$cores" "$work" <<'PY'
import resource, subprocess, sys, time
mt, bits, n, ref, ref_cpu, cores, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6], sys.argv[7]
start = time.time()
subprocess.run([mt, "decrypt", "--key", f"{work}/key{bits}.pem", "-o", f"{work}/out{bits}.csv", f"{work}/in{bits}.json"], check=True)
wall = time.time() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ru.ru_utime + ru.ru_stime
rate, cpu_rate = n / wall, n / cpu
print(f"decrypt rsa{bits}: {n} values in {wall:.2f}s = {rate:.0f} values/s; "
      f"openssl speed -multi {cores} rsa{bits}: {ref:.0f} private ops/s; ratio {rate / ref:.2f} (target >= 0.90)")
print(f"  per CPU second: mt {cpu_rate:.0f} values, openssl {ref_cpu:.0f} ops; ratio {cpu_rate / ref_cpu:.2f}")
PY
done
