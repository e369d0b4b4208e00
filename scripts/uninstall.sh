#!/bin/sh
# Removes what `make install` installed, as listed in install-manifest beside this script, then the folders that
# became empty; nothing else (a config in /etc/mt or data in /var/lib/mt is the lab's). Installed as
# PREFIX/share/mt/uninstall.sh, so it works without the source tree:  sh PREFIX/share/mt/uninstall.sh [DESTDIR]
set -eu
destdir=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
manifest=$here/install-manifest
if [ ! -f "$manifest" ]; then
  echo "mt uninstall: no install manifest at $manifest; was mt installed with make install there?" >&2
  exit 66
fi
removed=0
while IFS= read -r path; do
  case $path in /*) ;; *) echo "mt uninstall: $manifest: not an absolute path: $path" >&2; exit 65 ;; esac
  if [ -e "$destdir$path" ] || [ -L "$destdir$path" ]; then rm -f "$destdir$path"; removed=$((removed + 1)); fi
  dir=$(dirname "$path")
  # mt's own folders left empty go too (share/mt/systemd, share/doc/mt/examples, …); never a shared one such as
  # bin or share/man/man1, which other software expects to exist.
  while case $dir in */mt | */mt/*) true ;; *) false ;; esac && rmdir "$destdir$dir" 2>/dev/null; do
    dir=$(dirname "$dir")
  done
done < "$manifest"
echo "mt uninstall: removed $removed files"
