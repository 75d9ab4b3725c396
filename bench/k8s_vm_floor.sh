#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2029  # the remote commands are single-quoted on purpose: they expand on the VM
# The floor of bench/k8s_vm_create.py: the kubeadm steps create.yml runs inside the VMs, as a plain script over
# SSH, on booted VMs that already exist. No checks, no idempotence, no registry, no retries: each step once, the
# nodes in parallel where create.yml runs them in parallel. Prints "phase <name> <seconds>" after each phase.
#
#   k8s_vm_floor.sh <files dir> <air-gap bundle dir> <control plane address> <worker address>...
#
# The files dir holds what the collection's roles rendered (bench/k8s_vm_create.py copies them from the
# collection's VMs or renders them with the roles): init.yaml (/etc/kubernetes/gpve/init.yaml), config.toml
# (/etc/containerd/config.toml), sysctl.conf (/etc/sysctl.d/99-gpve-k8s.conf), cni.yaml (the CNI manifest the cni
# role applies) and join-<address>.yaml per worker (the join configuration, the token and CA hash as placeholders).
# FLOOR_SSH_KEY and FLOOR_SSH_USER: how to log in (the spec's user, with sudo).
set -euo pipefail

files=$1 bundle=$2 control_plane=$3
shift 3
workers=("$@")
nodes=("$control_plane" "${workers[@]}")
sockets=$(mktemp -d)
trap 'rm -rf "$sockets"' EXIT
ssh_opts=(-i "$FLOOR_SSH_KEY" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
          -o ConnectTimeout=5 -o ControlMaster=auto -o "ControlPath=$sockets/%h" -o ControlPersist=300)
on() { local host=$1; shift; ssh "${ssh_opts[@]}" "$FLOOR_SSH_USER@$host" "$@"; }
put() { local host=$1 dest=$2; shift 2; scp -q "${ssh_opts[@]}" "$@" "$FLOOR_SSH_USER@$host:$dest"; }
mark=$(date +%s.%N)
phase() { local now; now=$(date +%s.%N); awk -v a="$mark" -v b="$now" -v n="$1" 'BEGIN {printf "phase %s %.2f\n", n, b - a}'; mark=$now; }
each() { local step=$1 pids=() host; for host in "${nodes[@]}"; do "$step" "$host" & pids+=($!); done
         for pid in "${pids[@]}"; do wait "$pid"; done; }

wait_ssh() {
    until on "$1" true 2>/dev/null; do sleep 1; done
    on "$1" 'sudo cloud-init status --wait >/dev/null || [ $? -eq 2 ]'
}

prepare() {
    on "$1" 'mkdir -p /tmp/floor/debs /tmp/floor/images'
    put "$1" /tmp/floor/debs/ "$bundle"/node_prep/*.deb "$bundle"/kubeadm/*.deb
    local images=() image
    for image in "$bundle"/images/*.tar "$bundle"/kubeadm/images/*.tar; do
        case "$1:${image##*/}" in     # as the kubeadm role does: a worker skips the control plane's own images
            "$control_plane":*) images+=("$image") ;;
            *:kube-apiserver_*|*:kube-controller-manager_*|*:kube-scheduler_*|*:etcd_*) ;;
            *) images+=("$image") ;;
        esac
    done
    put "$1" /tmp/floor/images/ "${images[@]}"
    put "$1" /tmp/floor/ "$files/config.toml" "$files/sysctl.conf"
    on "$1" 'set -e
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -qq --yes --no-install-recommends /tmp/floor/debs/*.deb >/dev/null
        sudo systemctl enable --quiet kubelet
        sudo install -D -m 0644 /tmp/floor/config.toml /etc/containerd/config.toml
        sudo install -m 0644 /tmp/floor/sysctl.conf /etc/sysctl.d/99-gpve-k8s.conf
        sudo sysctl --quiet -p /etc/sysctl.d/99-gpve-k8s.conf
        sudo systemctl restart containerd
        for image in /tmp/floor/images/*.tar; do sudo ctr --namespace k8s.io images import "$image" >/dev/null; done
        sync'
}

join() {
    sed -e "s/__GPVE_JOIN_TOKEN__/$token/" -e "s/__FLOOR_CA_CERT_HASH__/$ca_hash/" "$files/join-$1.yaml" \
        | on "$1" 'sudo install -d -m 0700 /etc/kubernetes/gpve && sudo tee /etc/kubernetes/gpve/join.yaml >/dev/null &&
                   sudo chmod 0600 /etc/kubernetes/gpve/join.yaml && sudo kubeadm join --config /etc/kubernetes/gpve/join.yaml >/dev/null'
}

each wait_ssh
phase ssh
each prepare
phase node_prep
put "$control_plane" /tmp/floor/ "$files/init.yaml" "$files/cni.yaml"
kubeadm_init() {
    on "$control_plane" 'sudo install -D -m 0600 /tmp/floor/init.yaml /etc/kubernetes/gpve/init.yaml && sudo kubeadm init --config /etc/kubernetes/gpve/init.yaml >/dev/null'
}
# Seen once in a full test run: the control plane's API server refused connections for kubeadm's whole API call
# budget. What the node showed is printed, then the script does what an operator would: reset and init once more.
if ! kubeadm_init; then
    on "$control_plane" 'sudo crictl ps -a; for c in etcd kube-apiserver; do echo "== $c"; sudo crictl logs --tail 30 "$(sudo crictl ps -a --name "$c" -q | head -1)" 2>&1; done; free -m' >&2 || true
    echo "kubeadm init failed; reset and init once more" >&2
    on "$control_plane" 'sudo kubeadm reset --force >/dev/null 2>&1'
    kubeadm_init
fi
phase init
join_command=$(on "$control_plane" 'sudo kubeadm token create --ttl 1h --print-join-command')
token=$(sed -E 's/.*--token ([^ ]+).*/\1/' <<<"$join_command")
ca_hash=$(sed -E 's/.*--discovery-token-ca-cert-hash ([^ ]+).*/\1/' <<<"$join_command")
pids=()
for worker in "${workers[@]}"; do join "$worker" & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid"; done
phase join
on "$control_plane" 'sudo kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f /tmp/floor/cni.yaml >/dev/null'
phase cni
until on "$control_plane" "sudo kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes --no-headers 2>/dev/null \
        | awk '\$2 == \"Ready\" {ready++} END {exit ready == ${#nodes[@]} ? 0 : 1}'"; do sleep 1; done
phase ready
