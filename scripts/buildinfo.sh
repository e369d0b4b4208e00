#!/usr/bin/env bash
# Writes Sources/CBuildInfo/generated.h (ignored by git): the commit mt is built from and the Swift compiler that
# builds it, for `mt --version`. Run by make before every build; rewrites the file only when its text changes, so
# that an unchanged tree rebuilds nothing. Outside a git work tree (a `make dist` tarball) it writes no commit and
# the one `git archive` stamped into archive_commit.h is used (see build_info.c).
set -euo pipefail
cd "$(dirname "$0")/.."
swift=${1:-swift}
out=Sources/CBuildInfo/generated.h
text="// written by scripts/buildinfo.sh; not tracked"$'\n'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ "$(git rev-parse --show-toplevel)" = "$PWD" ]; then
  commit=$(git rev-parse HEAD)
  git diff --quiet HEAD -- 2>/dev/null || commit+="-dirty"
  text+="#define MT_BUILD_COMMIT \"$commit\""$'\n'
fi
compiler=$("$swift" --version 2>/dev/null | sed -n 's/^.*\(Swift version [^ ]*\).*$/\1/p' | head -n 1)
[ -n "$compiler" ] && text+="#define MT_BUILD_SWIFT \"${compiler#Swift version }\""$'\n'
if [ ! -f "$out" ] || [ "$(cat "$out")"$'\n' != "$text" ]; then
  printf '%s' "$text" > "$out"
  # A header that did not exist at the last compile is not in its dependency list: make the C file newer.
  touch Sources/CBuildInfo/build_info.c
fi
