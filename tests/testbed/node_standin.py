"""The node stand-in: the testbed's one fake, in place of kubelets and a container runtime.

There is no container runtime on the testbed machine, so no real kubelet can run. This
code plays the kubelet's part towards the API server, and nothing more. It serves two
kinds of Nodes, with the same behaviour:

  * the testbed's own Nodes (``testbed-node-1`` .. ``-N``), registered at start by the
    ``node-standin`` component (its own process, started by the testbed):
    podCIDR 10.244.<i>.0/24, InternalIP 127.0.1.<i>, label ``gpve.io/node-standin=true``;
  * the VMs of a K8s-on-VM cluster under test (``follow_record``, used in-process by
    tests/integration/roles). There the tasks meant for the VMs go to the guest recorder
    (tests/guest_recorder), which runs nothing; a line of its record whose data carries
    ``kubelet: {node, version}`` (kubeadm init/join, a kubelet restart, k3s/rke2/k0s service
    start, Talos apply-config) stands for a kubelet that (re)starts on that VM at that version. The
    stand-in then registers a Node named after the planned VM (podCIDR 10.245.<i>.0/24,
    InternalIP the given address or 127.0.2.<i>), and a later record with another version
    changes its kubeletVersion (an upgraded kubelet; ``hold(name)`` makes that kubelet fail
    to come back at the new version, for failed-upgrade tests). A VM Node deleted from the API
    (scale down, delete) is no longer served: its kubelet went with its VM.

What it fakes, for every Node it serves
  * Node registration: capacity, the Ready condition, a podCIDR, an InternalIP on loopback
    (anything dialing a "kubelet" is refused at once instead of hanging), kubeletVersion.
  * Heartbeats: renews each Node's Lease in ``kube-node-lease`` every 10s and refreshes the
    Node conditions every minute, as a kubelet does; the real node lifecycle controller
    therefore keeps the Nodes Ready (stop the stand-in and it marks them NotReady/taints
    them after its 40s grace period, as for a dead kubelet).
  * Pods: every Pod the real scheduler binds to one of these Nodes is reported Running and
    Ready at once (conditions, container statuses, a podIP from the node's podCIDR; host
    IP for hostNetwork pods). No container runs, no image is pulled, probes are not run,
    init containers are reported Completed, and pods never finish (Jobs do not complete).
  * Deletion: a Pod with a deletionTimestamp on these Nodes is removed (grace period 0),
    as a kubelet does once its containers stopped; namespace deletion and drains therefore
    finish.

Everything else is real: scheduling (including waiting for bound volume claims),
controllers, admission, RBAC, cordon/drain/eviction. It authenticates as an admin
(``system:masters``): one stand-in serves several Nodes, which the per-node
``system:node:<name>`` identities cannot. Nothing runs in a container.

    python -m tests.testbed.node_standin --kubeconfig K --nodes 3 --ready-file F
    NodeStandin(kubeconfig).follow_record(path).start() ... .stop(delete_nodes=True)
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from .components import Component, Probe
from .layout import REPO_ROOT, Layout

LOG = logging.getLogger("node-standin")
NODE_PREFIX = "testbed-node-"
KUBELET_VERSION = "v1.20.2"
LEASE_NAMESPACE = "kube-node-lease"
LEASE_SECONDS = 40
LEASE_RENEW_SECONDS = 10
STATUS_REFRESH_SECONDS = 60
CAPACITY = {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
VM_CAPACITY = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "50Gi"}
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"


def node_names(count: int) -> list[str]:
    return [f"{NODE_PREFIX}{i}" for i in range(1, count + 1)]


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_micro() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class ServedNode:
    """One Node the stand-in plays the kubelet for."""

    name: str
    address: str
    cidr: str
    version: str = KUBELET_VERSION
    labels: dict = field(default_factory=dict)
    capacity: dict = field(default_factory=lambda: dict(CAPACITY))
    os_image: str = "gpve testbed node stand-in"
    fixed: bool = True          # a testbed Node: kept when the API server is away or the Node deleted
    since: str = field(default_factory=_now)


def testbed_node(name: str) -> ServedNode:
    index = int(name[len(NODE_PREFIX):])
    return ServedNode(name=name, address=f"127.0.1.{index}", cidr=f"10.244.{index}.0/24",
                      labels={"gpve.io/node-standin": "true"})


def vm_node(name: str, index: int, version: str, address: str | None = None) -> ServedNode:
    """A K8s-on-VM cluster's VM (index from 1, in the order they appear)."""
    return ServedNode(name=name, address=address or f"127.0.2.{index}", cidr=f"10.245.{index}.0/24",
                      version=version, capacity=dict(VM_CAPACITY), os_image="Ubuntu 22.04 (node stand-in)",
                      fixed=False)


def node_object(node: ServedNode) -> dict:
    labels = {"kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
    labels.update(node.labels)
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node.name, "labels": labels},
            "spec": {"podCIDR": node.cidr, "podCIDRs": [node.cidr]}}


def node_status(node: ServedNode) -> dict:
    """The status a healthy kubelet reports; node.since is when Ready became True."""
    beat = _now()
    kubelet = "v" + node.version.lstrip("v")

    def condition(kind: str, status: str, reason: str) -> dict:
        return {"type": kind, "status": status, "reason": reason, "message": "node stand-in",
                "lastHeartbeatTime": beat, "lastTransitionTime": node.since}
    return {"status": {
        "capacity": node.capacity, "allocatable": node.capacity,
        "conditions": [condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                       condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                       condition("PIDPressure", "False", "KubeletHasSufficientPID"),
                       condition("Ready", "True", "KubeletReady")],
        "addresses": [{"type": "InternalIP", "address": node.address},
                      {"type": "Hostname", "address": node.name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": node.name, "systemUUID": node.name, "bootID": node.name,
                     "kernelVersion": os.uname().release, "osImage": node.os_image,
                     "containerRuntimeVersion": "standin://0", "kubeletVersion": kubelet,
                     "kubeProxyVersion": kubelet, "operatingSystem": "linux", "architecture": "amd64"},
    }}


def lease_object(name: str, node_uid: str) -> dict:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": LEASE_NAMESPACE,
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}]},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": _now_micro()}}


def running_status(pod: client.V1Pod, pod_ip: str, host_ip: str) -> dict:
    """What a kubelet reports once every container of the pod started and passes its probes."""
    now = _now()

    def started(container) -> dict:
        return {"name": container.name, "image": container.image, "imageID": f"standin://{container.image}",
                "containerID": f"standin://{pod.metadata.uid}/{container.name}", "ready": True, "started": True,
                "restartCount": 0, "state": {"running": {"startedAt": now}}}

    def completed(container) -> dict:
        return {"name": container.name, "image": container.image, "imageID": f"standin://{container.image}",
                "containerID": f"standin://{pod.metadata.uid}/{container.name}", "ready": True,
                "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                            "startedAt": now, "finishedAt": now}}}
    conditions = [{"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                  for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]
    return {"status": {
        "phase": "Running", "conditions": conditions, "hostIP": host_ip, "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}], "startTime": now, "qosClass": pod.status.qos_class if pod.status else None,
        "containerStatuses": [started(c) for c in pod.spec.containers],
        "initContainerStatuses": [completed(c) for c in pod.spec.init_containers or []],
    }}


class PodAddresses:
    """Pod IPs per node from its podCIDR, handed out once and given back when the pod goes."""

    def __init__(self):
        self._taken: dict[str, str] = {}

    def take(self, cidr: str, uid: str) -> str:
        if uid in self._taken:
            return self._taken[uid]
        used = set(self._taken.values())
        for host in ipaddress.ip_network(cidr).hosts():
            if str(host) not in used and not str(host).endswith(".1"):
                self._taken[uid] = str(host)
                return str(host)
        raise RuntimeError(f"no pod address left in {cidr}")

    def keep(self, uid: str, address: str) -> None:
        self._taken[uid] = address

    def give_back(self, uid: str) -> None:
        self._taken.pop(uid, None)


class NodeStandin:
    """Plays the kubelet for the Nodes in self.nodes (the testbed's names given here, VMs added by kubelet())."""

    def __init__(self, kubeconfig: str, names: list[str] = (), addresses: dict[str, str] | None = None):
        self.kubeconfig = kubeconfig
        self.nodes: dict[str, ServedNode] = {name: testbed_node(name) for name in names}
        self.vm_addresses = dict(addresses or {})
        self.served: dict[str, int] = {}    # every VM Node ever registered -> its index (stop(delete_nodes=True))
        self.addresses = PodAddresses()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.record_path: Path | None = None
        self._record_lines = 0
        self.held: set[str] = set()         # VM Nodes whose kubelet does not come back at a new version

    def hold(self, name: str) -> None:
        """From now on the kubelet of VM name fails to start at another version (a failed node upgrade)."""
        with self.lock:
            self.held.add(name)

    def release(self, name: str) -> None:
        with self.lock:
            self.held.discard(name)

    @property
    def names(self) -> list[str]:
        with self.lock:
            return sorted(self.nodes)

    def _node(self, name: str) -> ServedNode | None:
        with self.lock:
            return self.nodes.get(name)

    def _core(self) -> client.CoreV1Api:
        # One ApiClient per thread: the client's connection pool is not shared across threads here.
        return client.CoreV1Api(config.new_client_from_config(self.kubeconfig))

    # ------------------------------------------------------------ nodes

    def _publish(self, core: client.CoreV1Api, node: ServedNode) -> None:
        """Create the Node (or find it), report its status and renew its Lease."""
        try:
            created = core.create_node(node_object(node))
        except ApiException as exc:
            if exc.status != 409:
                raise
            created = core.read_node(node.name)
        core.patch_node_status(node.name, node_status(node), _content_type=STRATEGIC)
        self._renew_lease(client.CoordinationV1Api(core.api_client), node.name, created.metadata.uid)

    def register(self) -> None:
        """Register the testbed's Nodes (the component's start)."""
        core = self._core()
        for name in self.names:
            node = self._node(name)
            node.since = _now()
            self._publish(core, node)

    def kubelet(self, name: str, version: str) -> None:
        """A kubelet (re)starts on VM name at version: register its Node, or report the new version."""
        with self.lock:
            known = self.nodes.get(name)
            if known is not None and name in self.held and known.version != version:
                LOG.info("kubelet of %s held at %s, not starting %s", name, known.version, version)
                return
            if known is None:
                index = self.served.setdefault(name, len(self.served) + 1)
                known = vm_node(name, index, version, self.vm_addresses.get(name))
                self.nodes[name] = known
            known.version = version
        self._publish(self._core(), known)

    @staticmethod
    def _renew_lease(leases: client.CoordinationV1Api, name: str, node_uid: str) -> None:
        renewal = {"spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS,
                            "renewTime": _now_micro()}}
        try:
            leases.patch_namespaced_lease(name, LEASE_NAMESPACE, renewal, _content_type=MERGE)
        except ApiException as exc:
            if exc.status != 404:
                raise
            leases.create_namespaced_lease(LEASE_NAMESPACE, lease_object(name, node_uid))

    def heartbeat(self) -> None:
        """Renew the Leases every LEASE_RENEW_SECONDS and the Node conditions every STATUS_REFRESH_SECONDS."""
        core = self._core()
        leases = client.CoordinationV1Api(core.api_client)
        last_status = time.monotonic()
        while not self.stopping.wait(LEASE_RENEW_SECONDS):
            refresh = time.monotonic() - last_status >= STATUS_REFRESH_SECONDS
            for name in self.names:
                node = self._node(name)
                if node is None:
                    continue
                try:
                    uid = core.read_node(name).metadata.uid
                    self._renew_lease(leases, name, uid)
                    if refresh:
                        core.patch_node_status(name, node_status(node), _content_type=STRATEGIC)
                except ApiException as exc:
                    if exc.status == 404 and not node.fixed:   # a VM Node deleted: its kubelet went with its VM
                        with self.lock:
                            self.nodes.pop(name, None)
                        continue
                    LOG.warning("heartbeat for %s failed: %s", name, exc)
                except Exception as exc:  # noqa: BLE001 - the API server may be down on purpose (health tests)
                    LOG.warning("heartbeat for %s failed: %s", name, exc)
            if refresh:
                last_status = time.monotonic()

    # ---------------------------------------------------- guest step record

    def follow_record(self, record_path: Path) -> "NodeStandin":
        """Serve the VM Nodes named by a guest step record's ``kubelet`` entries (see the module docstring)."""
        self.record_path = Path(record_path)
        return self

    def read_record(self) -> None:
        """Start or upgrade the kubelets of the record's new lines."""
        while not self.stopping.wait(0.3):
            if not self.record_path.exists():
                continue
            for line in self.record_path.read_text().splitlines()[self._record_lines:]:
                kubelet = (json.loads(line).get("data") or {}).get("kubelet")
                if kubelet and kubelet.get("node") and kubelet.get("version"):
                    try:
                        self.kubelet(kubelet["node"], kubelet["version"])
                    except Exception as exc:  # noqa: BLE001 - the same line is tried again next round
                        LOG.warning("registering %s failed: %s", kubelet["node"], exc)
                        break
                self._record_lines += 1

    # ------------------------------------------------------------- pods

    def handle(self, core: client.CoreV1Api, event: str, pod: client.V1Pod) -> None:
        node = self._node(pod.spec.node_name)
        if node is None:
            return
        uid = pod.metadata.uid
        if event == "DELETED":
            self.addresses.give_back(uid)
            return
        if pod.metadata.deletion_timestamp is not None:
            self._finish_deletion(core, pod)
            return
        if pod.status and pod.status.phase == "Running" and pod.status.pod_ip:
            self.addresses.keep(uid, pod.status.pod_ip)
            return
        pod_ip = node.address if pod.spec.host_network else self.addresses.take(node.cidr, uid)
        core.patch_namespaced_pod_status(pod.metadata.name, pod.metadata.namespace,
                                         running_status(pod, pod_ip, node.address), _content_type=STRATEGIC)

    @staticmethod
    def _finish_deletion(core: client.CoreV1Api, pod: client.V1Pod) -> None:
        """The kubelet's last word on a terminating pod: its containers are gone, remove it now."""
        body = client.V1DeleteOptions(grace_period_seconds=0,
                                      preconditions=client.V1Preconditions(uid=pod.metadata.uid))
        try:
            core.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace, body=body)
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise

    def _sync(self, core: client.CoreV1Api) -> str:
        """Handle every pod once; returns the list's resourceVersion to watch from."""
        pods = core.list_pod_for_all_namespaces()
        for pod in pods.items:
            self.handle(core, "ADDED", pod)
        return pods.metadata.resource_version

    def serve_pods(self, synced: threading.Event, watch_seconds: int = 300) -> None:
        """List, then watch; relist after any error (a 410, or the API server being restarted)."""
        core = self._core()
        while not self.stopping.is_set():
            try:
                version = self._sync(core)
                synced.set()
                for change in watch.Watch().stream(core.list_pod_for_all_namespaces, resource_version=version,
                                                   timeout_seconds=watch_seconds, allow_watch_bookmarks=True):
                    if self.stopping.is_set():
                        break
                    if change["type"] in ("ADDED", "MODIFIED", "DELETED"):
                        self.handle(core, change["type"], change["object"])
            except Exception as exc:  # noqa: BLE001 - keep serving across API server restarts
                LOG.warning("pod watch interrupted: %s", exc)
                self.stopping.wait(1.0)

    # ------------------------------------------------------ in-process use

    def start(self) -> "NodeStandin":
        """Serve in threads of this process (the VM Nodes of a test or the demo); stop with stop()."""
        synced = threading.Event()
        targets = [(self.serve_pods, (synced, 5), "pods"), (self.heartbeat, (), "heartbeat")]
        if self.record_path is not None:
            targets.append((self.read_record, (), "record"))
        for target, args, name in targets:
            thread = threading.Thread(target=target, args=args, name=f"node-standin-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self, delete_nodes: bool = True) -> None:
        """Stop serving; with delete_nodes, delete every VM Node it registered (never the testbed's)."""
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


def _retry(action, stopping: threading.Event) -> None:
    """Run action until it succeeds: the API server may still be starting (or restarting)."""
    while not stopping.is_set():
        try:
            action()
            return
        except Exception as exc:  # noqa: BLE001 - retried until the API server answers
            LOG.warning("%s failed, retrying: %s", action.__name__, exc)
            stopping.wait(1.0)


def component(layout: Layout, kubeconfig: Path, count: int) -> Component:
    """How the testbed runs this stand-in: its own detached Python process."""
    name = "node-standin"
    ready = layout.ready_file(name)
    argv = [sys.executable, "-m", "tests.testbed.node_standin", "--kubeconfig", str(kubeconfig),
            "--nodes", str(count), "--ready-file", str(ready)]
    return Component(name=name, argv=argv, log=str(layout.log(name)), pidfile=str(layout.pidfile(name)),
                     probe=Probe(file=str(ready)), ready_timeout=60.0, env={"PYTHONPATH": str(REPO_ROOT)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--ready-file", required=True, help="written once the Nodes are registered and pods synced")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    standin = NodeStandin(args.kubeconfig, node_names(args.nodes))
    signal.signal(signal.SIGTERM, lambda *_: standin.stopping.set())
    _retry(standin.register, standin.stopping)
    synced = threading.Event()
    threading.Thread(target=standin.serve_pods, args=(synced,), name="pods", daemon=True).start()
    threading.Thread(target=standin.heartbeat, name="heartbeat", daemon=True).start()
    synced.wait()
    Path(args.ready_file).write_text(",".join(standin.names) + "\n")
    LOG.info("serving nodes %s", ", ".join(standin.names))
    while not standin.stopping.wait(1.0):
        pass


if __name__ == "__main__":
    main()
