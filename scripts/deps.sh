#!/usr/bin/env bash
# Installs the system packages mt needs, only those missing. `deps.sh build` for building and running,
# `deps.sh test` adds what the test suites use (a browser for the HTML report test, GNU time, R and pandas
# for reading mended CSVs, PSPP, sqlite3 and frictionless for reading the dataset mt did not write, promtool and
# node_exporter for the metrics file, systemd-analyze for the units, faketime for clock steps, a C compiler,
# libfuse3-dev and fuse3 for the power-loss suite's FUSE file system, man-db to render the man pages),
# `deps.sh perf` what the benchmarks use (bc, GNU time, pandas), `deps.sh deb` what make deb and make deb-test
# use (Debian's packaging tools and lintian; systemd for systemd-analyze, sysusers and tmpfiles; man-db for man -l).
set -euo pipefail
what=${1:-build}
pkgs=(pkg-config libcurl4-openssl-dev libssl-dev zlib1g-dev libsqlite3-dev libreadstat-dev openssl ca-certificates python3 curl)
if [ "$what" = test ]; then
  pkgs+=(chromium util-linux time r-base-core prometheus prometheus-node-exporter systemd faketime gcc libfuse3-dev fuse3 pspp sqlite3 man-db)
fi
if [ "$what" = perf ]; then pkgs+=(bc time); fi
if [ "$what" = deb ]; then pkgs+=(build-essential dpkg-dev debhelper lintian systemd man-db); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "mt: installing system packages: ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "mt: please install as root: apt-get install ${missing[*]}" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "mt: swift is in /opt/swift/usr/bin; add it to PATH" >&2
  else
    echo "mt: Swift 6 is needed (https://www.swift.org/install/)" >&2
  fi
  exit 1
fi

if [ "$what" != build ] && [ "$what" != deb ] && ! python3 -c 'import pandas' 2>/dev/null; then
  echo "mt: installing pandas for the stats comparison tests" >&2
  python3 -m pip install -q pandas >/dev/null 2>&1 || echo "mt: pandas could not be installed; those tests will say so and skip" >&2
fi
# frictionless validates the dataset's CSV and datapackage.json (mt stats dataset's tests).
if [ "$what" = test ] && ! command -v frictionless >/dev/null; then
  echo "mt: installing frictionless for the dataset tests" >&2
  python3 -m pip install -q frictionless >/dev/null 2>&1 || echo "mt: frictionless could not be installed; the dataset test will say so" >&2
fi
exit 0
