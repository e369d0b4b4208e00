#!/usr/bin/env bash
# The power-loss suite (TESTING.md): mt export, benchmark release, recover and withdraw killed at chosen phases on
# durablefs (Tests/PowerLoss/durablefs.c, a FUSE file system that keeps only what was made durable), the power
# cut at that instant, the durable state mounted again and the command rerun; nothing the server deleted may be
# lost. Runs the debug mt and mt-sim that `make test` builds (MT_BIN, MT_SIM_BIN to override). Needs /dev/fuse
# and the right to mount FUSE (root here and in CI); MT_POWERLOSS_ROUNDS rounds per kind (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -e /dev/fuse ]; then
  echo "powerloss: /dev/fuse is missing; the suite mounts a FUSE file system (in a container: --device /dev/fuse --cap-add SYS_ADMIN)" >&2
  exit 69
fi
for tool in cc pkg-config fusermount3 openssl python3; do
  command -v "$tool" >/dev/null || { echo "powerloss: $tool is missing; run scripts/deps.sh test" >&2; exit 69; }
done
pkg-config --exists fuse3 || { echo "powerloss: libfuse3-dev is missing; run scripts/deps.sh test" >&2; exit 69; }
exec python3 Tests/PowerLoss/powerloss.py "$@"
