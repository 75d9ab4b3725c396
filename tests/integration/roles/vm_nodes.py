"""Kubelet stand-in for the VMs of a K8s-on-VM cluster under test (a test helper, not a fake of ours).

The testbed's node stand-in (tests/testbed/node_standin.py) registers its own fixed Nodes;
the K8s-on-VM playbooks need Nodes named after the planned VMs, appearing when a kubelet
on that VM would start. With ``gpve_skip_guest_steps`` the roles record each skipped guest
step; a record whose data carries ``kubelet: {node, version}`` (kubeadm init/join/upgrade,
k3s/rke2/k0s install, Talos apply-config) stands for a kubelet that (re)starts on that node at
that version. This helper follows the record file and plays the kubelet's part towards the
real API server, as the testbed's stand-in does for its Nodes:

  * registers the Node (InternalIP = the VM's planned address) and reports it Ready,
    with the recorded kubeletVersion; a later record with another version updates it
    (an upgraded kubelet);
  * renews its Lease every 10s so the node lifecycle controller keeps it Ready;
  * reports every Pod the scheduler binds to it Running/Ready, and removes Pods being
    deleted (grace period 0), so drains finish; it stops serving a Node that was deleted.

Nothing runs in a container; nothing else is faked.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import logging
import threading
import time
from pathlib import Path

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.testbed.node_standin import LEASE_NAMESPACE, LEASE_RENEW_SECONDS, MERGE, STRATEGIC, lease_object, running_status

LOG = logging.getLogger("vm-nodes")
CAPACITY = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "50Gi"}
POD_NETWORK = ipaddress.ip_network("10.245.0.0/16")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_status(name: str, address: str, version: str, since: str) -> dict:
    beat = _now()

    def condition(kind, status, reason):
        return {"type": kind, "status": status, "reason": reason, "message": "vm node stand-in",
                "lastHeartbeatTime": beat, "lastTransitionTime": since}
    kubelet = "v" + version.lstrip("v")
    return {"status": {
        "capacity": CAPACITY, "allocatable": CAPACITY,
        "conditions": [condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                       condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                       condition("PIDPressure", "False", "KubeletHasSufficientPID"),
                       condition("Ready", "True", "KubeletReady")],
        "addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": name, "systemUUID": name, "bootID": name, "kernelVersion": "6.1.0",
                     "osImage": "Ubuntu 22.04 (vm node stand-in)", "containerRuntimeVersion": "containerd://1.7.0",
                     "kubeletVersion": kubelet, "kubeProxyVersion": kubelet,
                     "operatingSystem": "linux", "architecture": "amd64"},
    }}


class VmNodes:
    """Follows a guest step record and serves the Nodes it names. Start with start(), stop with stop()."""

    def __init__(self, kubeconfig: str, record_path: Path, addresses: dict[str, str] | None = None):
        self.kubeconfig = kubeconfig
        self.record_path = Path(record_path)
        self.addresses = dict(addresses or {})
        self.nodes: dict[str, dict] = {}          # name -> {version, since, index}
        self.served: set[str] = set()             # every Node this helper ever registered
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self._lines_seen = 0
        self._pod_ips: dict[str, str] = {}

    # ------------------------------------------------------------------ public

    def start(self) -> "VmNodes":
        for target, name in ((self._follow_record, "record"), (self._heartbeat, "heartbeat"), (self._serve_pods, "pods")):
            thread = threading.Thread(target=target, name=f"vm-nodes-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self, delete_nodes: bool = True) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)
        if delete_nodes:
            core = self._core()
            for name in sorted(self.served):
                try:
                    core.delete_node(name)
                except ApiException as exc:
                    if exc.status != 404:
                        raise

    def names(self) -> list[str]:
        with self.lock:
            return sorted(self.nodes)

    def kubelet(self, name: str, version: str) -> None:
        """A kubelet (re)starts on node name at version: register the Node, or report the new version."""
        core = self._core()
        with self.lock:
            known = self.nodes.get(name)
            since = known["since"] if known else _now()
            self.nodes[name] = {"version": version, "since": since, "index": known["index"] if known else len(self.served)}
            self.served.add(name)
        address = self.addresses.get(name, "127.0.2.{0}".format(len(self.served)))
        try:
            core.create_node({"apiVersion": "v1", "kind": "Node",
                              "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                                    "kubernetes.io/arch": "amd64"}},
                              "spec": {"podCIDR": self._pod_cidr(name), "podCIDRs": [self._pod_cidr(name)]}})
        except ApiException as exc:
            if exc.status != 409:
                raise
        node = core.read_node(name)
        core.patch_node_status(name, node_status(name, address, version, since), _content_type=STRATEGIC)
        self._renew(client.CoordinationV1Api(core.api_client), name, node.metadata.uid)

    # ----------------------------------------------------------------- threads

    def _core(self) -> client.CoreV1Api:
        return client.CoreV1Api(config.new_client_from_config(self.kubeconfig))

    def _pod_cidr(self, name: str) -> str:
        index = self.nodes[name]["index"] + 1
        return str(list(POD_NETWORK.subnets(new_prefix=24))[index])

    def _follow_record(self) -> None:
        while not self.stopping.wait(0.3):
            if not self.record_path.exists():
                continue
            for line in self.record_path.read_text().splitlines()[self._lines_seen:]:
                kubelet = (json.loads(line).get("data") or {}).get("kubelet")
                if kubelet and kubelet.get("node") and kubelet.get("version"):
                    try:
                        self.kubelet(kubelet["node"], kubelet["version"])
                    except Exception as exc:  # noqa: BLE001 - the same line is tried again next round
                        LOG.warning("registering %s failed: %s", kubelet["node"], exc)
                        break
                self._lines_seen += 1

    @staticmethod
    def _renew(leases, name, uid) -> None:
        renewal = {"spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                            "renewTime": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}
        try:
            leases.patch_namespaced_lease(name, LEASE_NAMESPACE, renewal, _content_type=MERGE)
        except ApiException as exc:
            if exc.status != 404:
                raise
            leases.create_namespaced_lease(LEASE_NAMESPACE, lease_object(name, uid))

    def _heartbeat(self) -> None:
        core = self._core()
        leases = client.CoordinationV1Api(core.api_client)
        last_status = time.monotonic()
        while not self.stopping.wait(LEASE_RENEW_SECONDS):
            refresh = time.monotonic() - last_status >= 60
            for name in self.names():
                try:
                    uid = core.read_node(name).metadata.uid
                except ApiException as exc:
                    if exc.status == 404:   # deleted (scale down): its kubelet is gone with its VM
                        with self.lock:
                            self.nodes.pop(name, None)
                    continue
                try:
                    self._renew(leases, name, uid)
                    if refresh:
                        state = self.nodes[name]
                        core.patch_node_status(name, node_status(name, self.addresses.get(name, ""), state["version"],
                                                                 state["since"]), _content_type=STRATEGIC)
                except Exception as exc:  # noqa: BLE001 - the next beat tries again
                    LOG.warning("heartbeat for %s failed: %s", name, exc)
            if refresh:
                last_status = time.monotonic()

    def _handle(self, core, event, pod) -> None:
        node = pod.spec.node_name
        with self.lock:
            ours = node in self.nodes
        if not ours:
            return
        uid = pod.metadata.uid
        if event == "DELETED":
            self._pod_ips.pop(uid, None)
            return
        if pod.metadata.deletion_timestamp is not None:
            body = client.V1DeleteOptions(grace_period_seconds=0, preconditions=client.V1Preconditions(uid=uid))
            try:
                core.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace, body=body)
            except ApiException as exc:
                if exc.status not in (404, 409):
                    raise
            return
        if pod.status and pod.status.phase == "Running":
            return
        host_ip = self.addresses.get(node, "127.0.2.1")
        if pod.spec.host_network:
            pod_ip = host_ip
        else:
            pod_ip = self._pod_ips.setdefault(uid, str(POD_NETWORK.network_address + 2 + len(self._pod_ips)))
        core.patch_namespaced_pod_status(pod.metadata.name, pod.metadata.namespace,
                                         running_status(pod, pod_ip, host_ip), _content_type=STRATEGIC)

    def _serve_pods(self) -> None:
        core = self._core()
        while not self.stopping.is_set():
            try:
                pods = core.list_pod_for_all_namespaces()
                for pod in pods.items:
                    self._handle(core, "ADDED", pod)
                for change in watch.Watch().stream(core.list_pod_for_all_namespaces,
                                                   resource_version=pods.metadata.resource_version, timeout_seconds=5):
                    if self.stopping.is_set():
                        break
                    self._handle(core, change["type"], change["object"])
            except Exception as exc:  # noqa: BLE001 - relist after any error
                LOG.warning("pod watch interrupted: %s", exc)
                self.stopping.wait(0.5)
