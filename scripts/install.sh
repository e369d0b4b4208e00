#!/usr/bin/env bash
# make install: installs mt under PREFIX (staged under DESTDIR) and lists every file it installed in
# PREFIX/share/mt/install-manifest, with PREFIX/share/mt/uninstall.sh beside it, which removes exactly those
# files, so that uninstalling needs no source tree. The Debian package installs the same files in Debian's places
# through debian/rules (dpkg is its manifest).
#   scripts/install.sh DESTDIR PREFIX BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
destdir=$1 prefix=$2 binary=$3
share=$prefix/share/mt
installed=()

put() { # MODE SOURCE TARGET (absolute, without DESTDIR)
  install -D -m "$1" "$2" "$destdir$3"
  installed+=("$3")
}

put 755 "$binary" "$prefix/bin/mt"
for page in man/*.1; do
  [ "$page" = man/mt-sim.1 ] || put 644 "$page" "$prefix/share/man/man1/${page#man/}"
done
put 644 man/mt-config.5 "$prefix/share/man/man5/mt-config.5"
put 644 config/scales.yaml "$share/scales.yaml"
put 644 config/labels.yaml "$share/labels.yaml"
put 644 config/server.yaml.sample "$prefix/share/doc/mt/examples/server.yaml.sample"
put 644 completions/mt.bash "$prefix/share/bash-completion/completions/mt"
put 644 completions/_mt "$prefix/share/zsh/site-functions/_mt"
put 644 completions/mt.fish "$prefix/share/fish/vendor_completions.d/mt.fish"
# The units name the installed binary; copy them to /etc/systemd/system (README.md, "Running from systemd").
for unit in systemd/*.service; do
  install -d "$destdir$share/systemd"
  sed "s|/usr/local/bin/mt |$prefix/bin/mt |" "$unit" > "$destdir$share/${unit}"
  chmod 644 "$destdir$share/${unit}"
  installed+=("$share/$unit")
done
for f in systemd/*.timer systemd/mt.sysusers systemd/mt.tmpfiles; do put 644 "$f" "$share/$f"; done
put 644 scripts/uninstall.sh "$share/uninstall.sh"
installed+=("$share/install-manifest")
printf '%s\n' "${installed[@]}" > "$destdir$share/install-manifest"
chmod 644 "$destdir$share/install-manifest"
echo "mt: installed ${#installed[@]} files under $prefix (listed in $share/install-manifest)"
