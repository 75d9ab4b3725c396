#!/usr/bin/env bash
# Installs the Debian packages the test suite and the testbed need.
# Idempotent: a second run with everything present only checks and exits.
set -euo pipefail

PACKAGES=(
  golang-go etcd-server etcd-client rsync dpkg-dev   # Kubernetes build + etcd
  postgresql                                         # throwaway registry backend
  haproxy keepalived containerd cloud-init           # config validators for roles
  openssl sqlite3 git make shellcheck
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Services must not start during install: the testbed starts its own copies.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
