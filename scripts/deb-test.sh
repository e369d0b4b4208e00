#!/usr/bin/env bash
# make deb-test: installs the package built by make deb on this machine, as an admin would (apt-get install of the
# file), checks what it installed and that it runs, verifies its units, then removes and purges it and checks
# that nothing of it is left. As root, on a machine where mt is not installed otherwise (CI's fresh one).
#   scripts/deb-test.sh out/mt_VERSION_ARCH.deb
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$1
version=$(cat VERSION)
started=$SECONDS
fail() { echo "deb-test: FAIL: $*" >&2; exit 1; }
step() { echo "deb-test: $*"; }
[ "$(id -u)" -eq 0 ] || fail "run as root (it installs and removes a package)"
[ -f "$deb" ] || fail "$deb is missing; run make deb"
# Never touch what is not this test's: an installed mt, or an admin's /etc/mt or data, stops it.
dpkg-query -W -f='${Status}' mt 2>/dev/null | grep -q "install ok installed" && fail "package mt is already installed here"
[ -e /etc/mt ] && fail "/etc/mt exists on this machine; it is not this test's to touch"
[ -n "$(ls -A /var/lib/mt 2>/dev/null)" ] && fail "/var/lib/mt holds data on this machine"
tmp=$(mktemp -d)
installed=0
# A failed check must not leave this test's install behind: the next run on this machine (CI's among them) would
# refuse to start. Only what this test made goes: the package, and the config and data file it wrote.
cleanup() {
  rm -rf "$tmp"
  if [ "$installed" = 1 ]; then
    rm -f /var/lib/mt/kept /etc/mt/config.yaml
    apt-get purge -y -qq mt > /dev/null 2>&1 || true
    rmdir /etc/mt /var/lib/mt 2> /dev/null || true
  fi
}
trap cleanup EXIT

step "installing $deb"
export DEBIAN_FRONTEND=noninteractive
installed=1
apt-get install -y -qq --no-install-recommends "./$deb" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "apt-get install"; }
dpkg-query -W -f='${Version}\n' mt | grep -qx "$version" || fail "installed version is not VERSION's $version"

step "dpkg -L: every file where Debian puts it"
dpkg -L mt > "$tmp/files"
expected=(/usr/bin/mt /usr/share/mt/scales.yaml /usr/share/mt/labels.yaml /usr/share/doc/mt/examples/server.yaml.sample
  /usr/share/doc/mt/copyright /usr/share/doc/mt/changelog.gz /usr/share/doc/mt/README.md.gz
  /usr/share/man/man5/mt-config.5.gz
  /usr/share/bash-completion/completions/mt /usr/share/zsh/vendor-completions/_mt
  /usr/share/fish/vendor_completions.d/mt.fish /usr/lib/sysusers.d/mt.conf /usr/lib/tmpfiles.d/mt.conf
  /etc/mt/credentials)
for page in man/*.1; do [ "$page" = man/mt-sim.1 ] || expected+=("/usr/share/man/man1/${page#man/}.gz"); done
for unit in systemd/*.service systemd/*.timer; do expected+=("/lib/systemd/system/${unit#systemd/}"); done
for f in "${expected[@]}"; do grep -qx "$f" "$tmp/files" || fail "dpkg -L mt lacks $f"; [ -e "$f" ] || fail "$f is not on disk"; done
grep -q "mt-sim" "$tmp/files" && fail "the package holds mt-sim, which is for tests only"
[ "$(stat -c %a /etc/mt/credentials)" = 700 ] || fail "/etc/mt/credentials is not root-only"

step "the binary: Swift linked in, Debian's libraries from dpkg-shlibdeps"
ldd /usr/bin/mt > "$tmp/ldd"
grep -Eq "libswift|libFoundation|libdispatch" "$tmp/ldd" && fail "the Swift runtime is linked dynamically: $(cat "$tmp/ldd")"
depends=$(dpkg-query -W -f='${Depends}' mt)
for lib in libc6 libcurl4 libssl3 zlib1g; do [[ "$depends" == *"$lib"* ]] || fail "Depends: lacks $lib: $depends"; done
/usr/bin/mt --version > "$tmp/version" || fail "mt --version exited $?"
head -n 1 "$tmp/version" | grep -qx "mt $version" || fail "mt --version: $(cat "$tmp/version")"
grep -q "^libcurl: " "$tmp/version" && grep -q "^OpenSSL: " "$tmp/version" && grep -q "^zlib: " "$tmp/version" \
  || fail "mt --version lacks the libraries: $(cat "$tmp/version")"
/usr/bin/mt --version --json | python3 -c 'import json,sys; v=json.load(sys.stdin); assert v["version"]==sys.argv[1], v' "$version" \
  || fail "mt --version --json"
sed 's/^/  /' "$tmp/version"
# The installed catalogue is found next to the binary, and hints point at the installed sample.
(cd "$tmp" && /usr/bin/mt scales --local > "$tmp/scales") || fail "mt scales --local cannot read /usr/share/mt/scales.yaml"
printf '[]\n' > "$tmp/bad.yaml"
set +e; /usr/bin/mt --config "$tmp/bad.yaml" config check 2> "$tmp/hint"; code=$?; set -e
[ "$code" = 78 ] && grep -q "/usr/share/doc/mt/examples/server.yaml.sample" "$tmp/hint" \
  || fail "a config error does not point at the installed sample (exit $code): $(cat "$tmp/hint")"
for page in $(grep -E '^/usr/share/man/.*\.gz$' "$tmp/files"); do
  warnings=$(LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "man -l $page warns: $warnings"
done
LC_ALL=C.UTF-8 man 5 mt-config | grep -q "credential:" || fail "man 5 mt-config does not render"

step "the user mt, /var/lib/mt, no timer enabled"
getent passwd mt | grep -q ":/var/lib/mt:/usr/sbin/nologin$" || fail "user mt: $(getent passwd mt)"
[ "$(stat -c '%U %a' /var/lib/mt)" = "mt 700" ] || fail "/var/lib/mt: $(stat -c '%U %a' /var/lib/mt)"
ls /etc/systemd/system/*.wants/mt-* 2>/dev/null && fail "installing enabled a unit"

step "systemd-analyze verify and security on the installed units"
units=(/lib/systemd/system/mt-*.service /lib/systemd/system/mt-*.timer)
out=$(systemd-analyze verify --man=no "${units[@]}" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
for unit in /lib/systemd/system/mt-*.service; do
  rating=$(systemd-analyze security --offline=yes --no-pager "$unit" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 2.0 else 1)' "$rating" || fail "$unit rated $rating"
  echo "  $(basename "$unit"): $rating"
done

step "apt-get remove: no file of the package is left"
# The admin's config in /etc/mt, and data in /var/lib/mt, belong to the lab: remove and purge keep them.
printf 'lab:\n  SERVER: https://h/api/\n  PATH: /var/lib/mt/lab/\n' > /etc/mt/config.yaml
apt-get remove -y -qq mt > "$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log"; fail "apt-get remove"; }
while IFS= read -r f; do
  [ -d "$f" ] && continue
  [ -e "$f" ] || [ -L "$f" ] && fail "apt-get remove left $f"
done < "$tmp/files"
for d in /usr/share/mt /usr/share/doc/mt /etc/mt/credentials; do [ -e "$d" ] && fail "apt-get remove left $d"; done
[ -f /etc/mt/config.yaml ] || fail "apt-get remove deleted the admin's config"

step "apt-get purge: the package is gone, the admin's config and data stay"
touch /var/lib/mt/kept
apt-get purge -y -qq mt > "$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; fail "apt-get purge"; }
dpkg-query -W -f='${Status}' mt 2>/dev/null | grep -q "install ok installed" && fail "mt is still installed"
[ -f /etc/mt/config.yaml ] && [ -f /var/lib/mt/kept ] || fail "purge deleted the admin's config or data"
ls /var/lib/systemd/deb-systemd-helper-enabled/ 2>/dev/null | grep -q "mt-" && fail "purge left systemd helper state"
rm -f /var/lib/mt/kept /etc/mt/config.yaml
rmdir /etc/mt
# An empty /var/lib/mt goes with purge.
apt-get install -y -qq --no-install-recommends "./$deb" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "reinstall"; }
apt-get purge -y -qq mt > "$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; fail "apt-get purge"; }
[ -e /var/lib/mt ] && fail "purge left an empty /var/lib/mt"
[ -e /etc/mt ] && fail "purge left /etc/mt: $(ls -A /etc/mt)"
step "passed in $((SECONDS - started)) s"
