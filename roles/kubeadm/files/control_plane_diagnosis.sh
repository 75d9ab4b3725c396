#!/bin/sh
# What a control plane shows when kubeadm did not see it come up, as kubeadm's own help screen advises:
# its containers, the last lines of etcd's and the API server's logs, the kubelet's journal, and memory (free, and
# the memory cgroup's out-of-memory counts where the node can read them).
#   control_plane_diagnosis.sh <CRI socket>
endpoint=$1
crictl --runtime-endpoint "$endpoint" ps -a 2>&1
for name in etcd kube-apiserver; do
    id=$(crictl --runtime-endpoint "$endpoint" ps -a --name "$name" -q 2>/dev/null | head -n 1)
    echo "== $name ${id:-(no container)}"
    [ -n "$id" ] && crictl --runtime-endpoint "$endpoint" logs --tail 25 "$id" 2>&1
done
echo "== kubelet"
journalctl --unit kubelet --no-pager --lines 25 2>&1
echo "== memory (MiB)"
free -m
for counts in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory/memory.failcnt; do
    [ -r "$counts" ] && echo "$counts: $(tr '\n' ' ' < "$counts")"
done
exit 0
