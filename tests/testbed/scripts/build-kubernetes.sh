#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from Debian's
# `kubernetes` source package and caches them outside the repository, keyed by version.
# A cache that lacks some of them (one from before kubectl was added) gets just those built.
# The tree vendors reflect2 1.0.1, whose map iteration faults under Go >= 1.18 (the API
# server dies on the first custom resource it decodes); Debian's reflect2 1.0.2 replaces it,
# and binaries built before that fix (no stamp file) are all built again.
# Prints the directory holding the binaries on its last line.
set -euo pipefail

CACHE_ROOT="${GPVE_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpve-testbed}"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
STAMP=.reflect2-1.0.2
REFLECT2_PKG=golang-github-modern-go-reflect2-dev
REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2

have_cached() {
  local dir="$1"
  [ -f "$dir/$STAMP" ] || return 1
  for bin in "${BINARIES[@]}"; do [ -x "$dir/$bin" ] || return 1; done
}

print_cached() {
  local dir
  for dir in "$CACHE_ROOT"/kubernetes-*/bin; do
    if [ -d "$dir" ] && have_cached "$dir"; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# A cache hit needs no apt metadata at all.
print_cached && exit 0
# One build at a time: whoever waited here finds the other's result.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build.lock"
flock 9
print_cached && exit 0

enable_deb_src() {
  # Copy the machine's own Debian source entry with Types: deb-src (no host name is
  # written here: it is derived from the existing file).
  local src=/etc/apt/sources.list.d/debian.sources
  local dst=/etc/apt/sources.list.d/gpve-deb-src.sources
  [ -f "$dst" ] && return 0
  if [ -f "$src" ]; then
    sed 's/^Types: deb$/Types: deb-src/' "$src" > "$dst"
  elif [ -f /etc/apt/sources.list ]; then
    grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > /etc/apt/sources.list.d/gpve-deb-src.list
  fi
  apt-get update -qq
}

enable_deb_src
dpkg-query -W -f='${Status}' "$REFLECT2_PKG" 2>/dev/null | grep -q "ok installed" \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$REFLECT2_PKG" >/dev/null
work="$(mktemp -d "${TMPDIR:-/tmp}/gpve-kube-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source --download-only kubernetes >/dev/null
dscs=(kubernetes_*.dsc)
dsc="${dscs[0]}"
version="$(sed -n 's/^Version: \(.*\)$/\1/p' "$dsc" | head -n1)"
upstream="${version%%-*}"
dpkg-source -x "$dsc" src >/dev/null
out="$CACHE_ROOT/kubernetes-$upstream/bin"
mkdir -p "$out"
missing=()
for bin in "${BINARIES[@]}"; do
  if [ ! -f "$out/$STAMP" ] || [ ! -x "$out/$bin" ]; then missing+=("$bin"); fi
done
cd src
rm -rf vendor/github.com/modern-go/reflect2
cp -r "$REFLECT2_SRC" vendor/github.com/modern-go/reflect2
echo "building ${missing[*]} of kubernetes $upstream (a few minutes)" >&2
make WHAT="${missing[*]/#/cmd/}" >&2
for bin in "${missing[@]}"; do
  install -m 0755 "_output/bin/$bin" "$out/$bin"
done
touch "$out/$STAMP"
echo "$out"
