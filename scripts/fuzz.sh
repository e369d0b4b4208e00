#!/usr/bin/env bash
# libFuzzer over every reader of outside input (Fuzz/Sources/mt-fuzz). `fuzz.sh SECONDS` runs each target that
# long (CI: a short bounded run; `make fuzz`: 300 s each). Seeds come from Fuzz/corpus/<target>; key seeds are
# generated here, so no private key is ever committed. Exits non-zero on any crash, hang or out-of-memory.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
targets=${MT_FUZZ_TARGETS:-"json answer legacy csv base64 gzip key yaml benchmark names"}
swift build --package-path Fuzz -c debug >/dev/null
bin=$(swift build --package-path Fuzz -c debug --show-bin-path)/mt-fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in $targets; do
  mkdir -p "$work/$t"
  cp -r Fuzz/corpus/"$t"/. "$work/$t/" 2>/dev/null || true
  if [ "$t" = key ]; then
    openssl genrsa -traditional -out "$work/key/pkcs1.pem" 1024 2>/dev/null
    openssl pkcs8 -topk8 -nocrypt -in "$work/key/pkcs1.pem" -out "$work/key/pkcs8.pem"
    openssl pkcs8 -topk8 -nocrypt -in "$work/key/pkcs1.pem" -outform DER -out "$work/key/key.der"
    openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:fuzz -in "$work/key/pkcs1.pem" -out "$work/key/enc.pem"
  fi
  echo "fuzz: $t for ${seconds}s"
  (cd "$work" && MT_FUZZ_TARGET=$t "$bin" "$work/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
     -max_len=65536 -print_final_stats=1 2>"$work/$t.log") || { tail -40 "$work/$t.log"; echo "fuzz: $t FAILED"; exit 1; }
  grep -E "stat::number_of_executed_units|Done" "$work/$t.log" | tail -1
done
echo "fuzz: all targets clean"
