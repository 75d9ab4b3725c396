#!/usr/bin/env bash
# Installs the Debian packages the test suite and the testbed need.
# Idempotent: a second run with everything present only checks and exits.
set -euo pipefail

PACKAGES=(
  rsync gcc libc6-dev                                # builds (Go itself: /usr/local/go, see docs/testbed.md)
  mmdebstrap umoci skopeo busybox-static             # machine image, container images, test image
  systemd-container iproute2 iptables util-linux     # machines: nspawn, namespaces, guards, nsenter
  openssh-client                                     # SSH into machines
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
apt-get -o DPkg::Lock::Timeout=600 update -qq
# Services must not start during install: the testbed starts its own copies.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
