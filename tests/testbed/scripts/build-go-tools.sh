#!/usr/bin/env bash
# Builds the testbed's other Go programs from the Go module proxy at pinned versions and
# caches them outside the repository, one directory per tool and version:
#   build-go-tools.sh etcd  ->  ~/.cache/gpve-testbed/etcd-v3.7.0/bin/{etcd,etcdctl,etcdutl}
#   build-go-tools.sh all   ->  every tool below
# A throwaway build module requires the tool's module (and, where its go.mod replaces a
# sibling module with a local path, that sibling at the same version), so modules with
# replace directives build too. Static binaries (CGO_ENABLED=0), as the projects release.
# Prints the directory holding each tool's binaries, one per line.
set -euo pipefail
# The modules need Go >= 1.21 (which fetches a newer toolchain a go.mod asks for, through the
# module proxy); Debian 12's go is 1.19, so a Go installed under /usr/local/go comes first.
[ -x /usr/local/go/bin/go ] && PATH="/usr/local/go/bin:$PATH"
go_minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
[ "${go_minor:-0}" -ge 21 ] || { echo "Go 1.21 or newer is needed to build the testbed (found $(go env GOVERSION))" >&2; exit 1; }

CACHE_ROOT="${GPVE_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpve-testbed}"

# name | module | version | main packages (relative to the module) | -X flags (version stamps)
#   | blank imports left out of the main packages (optional: backends that register themselves
#     and cannot be built here: flannel's tencentvpc needs an SDK module the proxy does not serve,
#     its udp backend cgo on amd64, which upstream's CGO-off builds for other architectures lack too)
TOOLS=(
  "etcd|go.etcd.io/etcd/server/v3|v3.7.0|.|"
  "etcdctl|go.etcd.io/etcd/etcdctl/v3|v3.7.0|.|"
  "etcdutl|go.etcd.io/etcd/etcdutl/v3|v3.7.0|.|"
  "helm|helm.sh/helm/v3|v3.22.1|cmd/helm|helm.sh/helm/v3/internal/version.version=v3.22.1"
  "crictl|sigs.k8s.io/cri-tools|v1.37.0|cmd/crictl|sigs.k8s.io/cri-tools/pkg/version.Version=1.37.0"
  "cni-plugins|github.com/containernetworking/plugins|v1.10.0|plugins/main/bridge plugins/main/loopback plugins/ipam/host-local plugins/meta/portmap|"
  "coredns|github.com/coredns/coredns|v1.14.6|.|"
  "metrics-server|sigs.k8s.io/metrics-server|v0.8.0|cmd/metrics-server|"
  "flannel|github.com/flannel-io/flannel|v0.28.10|. cmd/install_conf|github.com/flannel-io/flannel/pkg/version.Version=v0.28.10|github.com/flannel-io/flannel/pkg/backend/tencentvpc github.com/flannel-io/flannel/pkg/backend/udp"
  "flannel-cni-plugin|github.com/containernetworking/plugins|v0.9.1|plugins/meta/flannel|"
)

tool_dir() { echo "$CACHE_ROOT/$1-$2/bin"; }

build_tool() {
  local name="$1" module="$2" version="$3" packages="$4" stamps="$5" without="$6"
  local out; out="$(tool_dir "$name" "$version")"
  if [ -f "$out/.complete" ]; then echo "$out"; return 0; fi
  local started; started=$(date +%s)
  local work; work="$(mktemp -d "${TMPDIR:-/tmp}/gpve-go-build.XXXXXX")"
  (
    cd "$work"
    go mod download -json "$module@$version" >/dev/null
    local src; src="$(go env GOMODCACHE)/$module@$version"
    {
      echo "module gpve.test/toolbuild"
      echo "go $(sed -n 's/^go \(.*\)$/\1/p' "$src/go.mod")"
      echo "require $module $version"
      sed -n 's#^\s*\([a-z0-9./-]*\) => \.\./.*#\1#p' "$src/go.mod" | while read -r sibling; do
        echo "require $sibling $version"
      done
    } > go.mod
    local imports=() pkg
    if [ -n "$without" ]; then
      # A writable copy of the module, those import lines deleted from its main packages, replaces it.
      cp -r "$src" src && chmod -R u+w src
      local gone
      for pkg in $packages; do
        for gone in $without; do sed -i "\#^\s*_ \"$gone\"\$#d" "src/$pkg"/*.go; done
      done
      echo "replace $module => ./src" >> go.mod
    fi
    for pkg in $packages; do
      [ "$pkg" = . ] && imports+=("$module") || imports+=("$module/$pkg")
    done
    { echo "//go:build tools"; echo "package tools"; printf 'import _ "%s"\n' "${imports[@]}"; } > tools.go
    go mod tidy >&2
    local ldflags="-s -w" stamp
    for stamp in $stamps; do ldflags+=" -X $stamp"; done
    mkdir -p "$out"
    if [ "${#imports[@]}" -eq 1 ]; then
      CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/$name" "${imports[0]}" >&2
    else
      CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/" "${imports[@]}" >&2
    fi
  )
  rm -rf "$work"
  touch "$out/.complete"
  echo "$name $version built in $(( $(date +%s) - started )) s" >&2
  echo "$out"
}

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build-go-tools.lock"
flock 9
wanted="${1:-all}"
for entry in "${TOOLS[@]}"; do
  IFS='|' read -r name module version packages stamps without <<<"$entry"
  if [ "$wanted" = all ] || [ "$wanted" = "$name" ]; then
    build_tool "$name" "$module" "$version" "$packages" "$stamps" "$without"
  fi
done
