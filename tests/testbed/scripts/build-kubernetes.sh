#!/usr/bin/env bash
# Builds the Kubernetes binaries of one release from the Go module proxy and caches them
# outside the repository, keyed by version:
#   build-kubernetes.sh 1.37.2   ->  ~/.cache/gpve-testbed/kubernetes-v1.37.2/bin/{kubelet,...}
#
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...) with local paths, which a
# module that depends on it cannot see, so a throwaway build module requires every staging
# module it requires at the matching v0.x.y and replaces it with that version itself
# (staging modules that are only replaced, such as sample-cli-plugin, are left out: the
# proxy does not serve every one of them). A staging module missing at the matching patch
# (sample-apiserver v0.36.3) falls back to the next patch.
# The binaries are static (CGO_ENABLED=0, as upstream's release builds) so the same file
# serves a node and a distroless-style image; the version is stamped as upstream's
# hack/lib/version.sh does, since kubeadm and the kubelet compare it.
# Prints the directory holding the binaries on its last line.
set -euo pipefail
# The modules need Go >= 1.21 (which fetches a newer toolchain a go.mod asks for, through the
# module proxy); Debian 12's go is 1.19, so a Go installed under /usr/local/go comes first.
[ -x /usr/local/go/bin/go ] && PATH="/usr/local/go/bin:$PATH"
go_minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
[ "${go_minor:-0}" -ge 21 ] || { echo "Go 1.21 or newer is needed to build the testbed (found $(go env GOVERSION))" >&2; exit 1; }

version="${1:?usage: build-kubernetes.sh <version, e.g. 1.37.2>}"
version="v${version#v}"
CACHE_ROOT="${GPVE_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpve-testbed}"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubeadm kube-proxy kubectl)
out="$CACHE_ROOT/kubernetes-$version/bin"

have_cached() {
  [ -f "$out/.complete" ] || return 1
  for bin in "${BINARIES[@]}"; do [ -x "$out/$bin" ] || return 1; done
}

have_cached && { echo "$out"; exit 0; }
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build-kubernetes-$version.lock"
flock 9
have_cached && { echo "$out"; exit 0; }

started=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/tmp}/gpve-kube-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
go mod download -json "k8s.io/kubernetes@$version" >/dev/null
src="$(go env GOMODCACHE)/k8s.io/kubernetes@$version"
staging_version="v0.${version#v1.}"
go_directive="$(sed -n 's/^go \(.*\)$/\1/p' "$src/go.mod")"

served_version() {  # the staging module's version the proxy serves, or the next patch
  local module="$1" candidate="$2"
  for _ in 1 2 3; do
    if go mod download "$module@$candidate" >/dev/null 2>&1; then echo "$candidate"; return 0; fi
    candidate="${candidate%.*}.$(( ${candidate##*.} + 1 ))"
  done
  echo "no served version of $module near $2" >&2
  return 1
}

{
  echo "module gpve.test/kubebuild"
  echo "go $go_directive"
  echo "require k8s.io/kubernetes $version"
  while read -r module; do
    pinned="$(served_version "$module" "$staging_version")"
    echo "require $module $pinned"
    echo "replace $module => $module $pinned"
  done < <(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) v0.0.0$#\1#p' "$src/go.mod")
} > go.mod
{
  echo "//go:build tools"
  echo "package tools"
  echo "import ("
  for bin in "${BINARIES[@]}"; do echo "  _ \"k8s.io/kubernetes/cmd/$bin\""; done
  echo ")"
} > tools.go
go mod tidy >&2

minor="${version#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

echo "building ${BINARIES[*]} of kubernetes $version (about 25 minutes on 2 cores)" >&2
mkdir -p "$out"
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/" \
  "${BINARIES[@]/#/k8s.io/kubernetes/cmd/}" >&2
touch "$out/.complete"
echo "kubernetes $version built in $(( $(date +%s) - started )) s" >&2
echo "$out"
