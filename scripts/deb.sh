#!/usr/bin/env bash
# make deb: builds out/mt_VERSION_ARCH.deb with dpkg-buildpackage from out/mt-VERSION.tar.gz (make dist), so that
# the package holds exactly what a release holds, then runs lintian on it: any error or warning fails.
#   scripts/deb.sh VERSION
set -euo pipefail
cd "$(dirname "$0")/.."
version=$1
export PATH="$PATH:/opt/swift/usr/bin"
logged=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ "$logged" != "$version" ]; then
  echo "mt deb: VERSION says $version but debian/changelog's newest entry is $logged" >&2
  echo "  add an entry for $version: dch -v $version (each release has one)" >&2
  exit 65
fi
tarball=out/mt-$version.tar.gz
[ -f "$tarball" ] || { echo "mt deb: $tarball is missing; run make dist" >&2; exit 66; }
work=.build-deb
rm -rf "$work/mt-$version" "$work"/mt_"$version"_* "$work"/mt-dbgsym_"$version"_*
mkdir -p "$work"
tar -xzf "$tarball" -C "$work"
started=$SECONDS
# SCRATCH outside the unpacked tree: the Swift build survives the next make deb (debian/rules reads it).
scratch=$PWD/$work/scratch
(cd "$work/mt-$version" && SCRATCH="$scratch" dpkg-buildpackage -b -us -uc)
arch=$(dpkg --print-architecture)
deb=mt_${version}_$arch.deb
cp "$work/$deb" out/
echo "mt deb: built out/$deb in $((SECONDS - started)) s"
lintian --fail-on error,warning --display-info "out/$deb"
echo "mt deb: lintian accepts out/$deb"
