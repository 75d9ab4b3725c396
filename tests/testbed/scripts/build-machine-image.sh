#!/usr/bin/env bash
# Builds the testbed's machine image: a Debian 12 root file system with what a user bakes
# into a Proxmox cloud template (systemd, sshd, cloud-init with NoCloud, sudo, python3,
# containerd, runc, conntrack, iptables, socat) and no Kubernetes packages. Every testbed
# machine (a host-cluster node, a booted Proxmox VM) boots a copy-on-write copy of it.
# mmdebstrap reads the packages from the machine's own apt sources (no mirror is named here).
# Cached under ~/.cache/gpve-testbed/machine-image-<key>/rootfs, the key being a hash of
# this script, so a changed package list builds a new image. Prints the rootfs path.
set -euo pipefail

CACHE_ROOT="${GPVE_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpve-testbed}"
PACKAGES=(
  systemd systemd-sysv systemd-resolved dbus udev kmod procps iproute2 iputils-ping
  openssh-server sudo cloud-init python3 python3-apt locales ca-certificates curl gnupg
  containerd runc conntrack iptables socat ethtool ebtables
)
key="$(sha256sum "$0" | cut -c1-12)"
image="$CACHE_ROOT/machine-image-$key"

[ -f "$image/.complete" ] && { echo "$image/rootfs"; exit 0; }
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build-machine-image.lock"
flock 9
[ -f "$image/.complete" ] && { echo "$image/rootfs"; exit 0; }

sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
started=$(date +%s)
rm -rf "$image"
mkdir -p "$image"
# Services are enabled, not started, at build time; containerd's config is written per
# machine at boot by the testbed, cloud-init is limited to the NoCloud seed PVE gives a VM.
# The hooks are run by mmdebstrap with the root as $1: single quotes keep it for them.
# shellcheck disable=SC2016
mmdebstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  --customize-hook='echo "datasource_list: [ NoCloud, None ]" > "$1/etc/cloud/cloud.cfg.d/90-gpve-testbed.cfg"' \
  --customize-hook='printf "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n" > "$1/etc/hosts"' \
  --customize-hook='rm -f "$1/etc/hostname" "$1/etc/machine-id" "$1"/etc/ssh/ssh_host_*; touch "$1/etc/machine-id"' \
  --customize-hook='echo "en_US.UTF-8 UTF-8" > "$1/etc/locale.gen" && chroot "$1" locale-gen >/dev/null' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd systemd-resolved ssh' \
  --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service' \
  bookworm "$image/rootfs" "$sources" >&2
touch "$image/.complete"
echo "machine image built in $(( $(date +%s) - started )) s ($(du -sh "$image/rootfs" | cut -f1))" >&2
echo "$image/rootfs"
