"""The node stand-in: the testbed's one fake, in place of kubelets and a container runtime.

There is no container runtime on the testbed machine, so no real kubelet can run. This
process plays the kubelet's part towards the API server, and nothing more:

What it fakes
  * Node registration: a few Nodes (``testbed-node-1`` .. ``-N``) with capacity, Ready
    condition, a podCIDR (10.244.<i>.0/24) and an InternalIP of 127.0.1.<i> (loopback, so
    anything dialing a "kubelet" is refused at once instead of hanging).
  * Heartbeats: renews each Node's Lease in ``kube-node-lease`` every 10s and refreshes the
    Node conditions every minute, as a kubelet does; the real node lifecycle controller
    therefore keeps the Nodes Ready (stop this process and it marks them NotReady/taints
    them after its 40s grace period, as for a dead kubelet).
  * Pods: every Pod the real scheduler binds to one of these Nodes is reported Running and
    Ready at once (conditions, container statuses, a podIP from the node's podCIDR; host
    IP for hostNetwork pods). No container runs, no image is pulled, probes are not run,
    init containers are reported Completed, and pods never finish (Jobs do not complete).
  * Deletion: a Pod with a deletionTimestamp on these Nodes is removed (grace period 0),
    as a kubelet does once its containers stopped; namespace deletion therefore finishes.

Everything else is real: scheduling (including waiting for bound volume claims),
controllers, admission, RBAC. It authenticates as an admin (``system:masters``): one
process serves several Nodes, which the per-node ``system:node:<name>`` identities cannot.

    python -m tests.testbed.node_standin --kubeconfig K --nodes 3 --ready-file F
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import logging
import os
import signal
import sys
import threading
import time
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
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"


def node_names(count: int) -> list[str]:
    return [f"{NODE_PREFIX}{i}" for i in range(1, count + 1)]


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_micro() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _index(node: str) -> int:
    return int(node[len(NODE_PREFIX):])


def node_object(name: str) -> dict:
    cidr = f"10.244.{_index(name)}.0/24"
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "gpve.io/node-standin": "true"}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr]}}


def node_status(name: str, transition: str) -> dict:
    """The status a healthy kubelet reports; transition is when Ready became True."""
    beat = _now()

    def condition(kind: str, status: str, reason: str) -> dict:
        return {"type": kind, "status": status, "reason": reason, "message": "node stand-in",
                "lastHeartbeatTime": beat, "lastTransitionTime": transition}
    return {"status": {
        "capacity": CAPACITY, "allocatable": CAPACITY,
        "conditions": [condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                       condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                       condition("PIDPressure", "False", "KubeletHasSufficientPID"),
                       condition("Ready", "True", "KubeletReady")],
        "addresses": [{"type": "InternalIP", "address": f"127.0.1.{_index(name)}"},
                      {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": name, "systemUUID": name, "bootID": name, "kernelVersion": os.uname().release,
                     "osImage": "gpve testbed node stand-in", "containerRuntimeVersion": "standin://0",
                     "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                     "operatingSystem": "linux", "architecture": "amd64"},
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

    def take(self, node: str, uid: str) -> str:
        if uid in self._taken:
            return self._taken[uid]
        used = set(self._taken.values())
        for host in ipaddress.ip_network(f"10.244.{_index(node)}.0/24").hosts():
            if str(host) not in used and not str(host).endswith(".1"):
                self._taken[uid] = str(host)
                return str(host)
        raise RuntimeError(f"no pod address left on {node}")

    def keep(self, uid: str, address: str) -> None:
        self._taken[uid] = address

    def give_back(self, uid: str) -> None:
        self._taken.pop(uid, None)


class NodeStandin:
    def __init__(self, kubeconfig: str, names: list[str]):
        self.kubeconfig = kubeconfig
        self.names = names
        self.addresses = PodAddresses()
        self.ready_since: dict[str, str] = {}
        self.stopping = threading.Event()

    def _core(self) -> client.CoreV1Api:
        # One ApiClient per thread: the client's connection pool is not shared across threads here.
        return client.CoreV1Api(config.new_client_from_config(self.kubeconfig))

    # ------------------------------------------------------------ nodes

    def register(self) -> None:
        core = self._core()
        leases = client.CoordinationV1Api(core.api_client)
        for name in self.names:
            try:
                node = core.create_node(node_object(name))
            except ApiException as exc:
                if exc.status != 409:
                    raise
                node = core.read_node(name)
            self.ready_since[name] = _now()
            core.patch_node_status(name, node_status(name, self.ready_since[name]), _content_type=STRATEGIC)
            self._renew_lease(leases, name, node.metadata.uid)

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
                try:
                    uid = core.read_node(name).metadata.uid
                    self._renew_lease(leases, name, uid)
                    if refresh:
                        core.patch_node_status(name, node_status(name, self.ready_since[name]),
                                               _content_type=STRATEGIC)
                except Exception as exc:  # noqa: BLE001 - the API server may be down on purpose (health tests)
                    LOG.warning("heartbeat for %s failed: %s", name, exc)
            if refresh:
                last_status = time.monotonic()

    # ------------------------------------------------------------- pods

    def handle(self, core: client.CoreV1Api, event: str, pod: client.V1Pod) -> None:
        node = pod.spec.node_name
        if node not in self.names:
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
        host_ip = f"127.0.1.{_index(node)}"
        pod_ip = host_ip if pod.spec.host_network else self.addresses.take(node, uid)
        core.patch_namespaced_pod_status(pod.metadata.name, pod.metadata.namespace,
                                         running_status(pod, pod_ip, host_ip), _content_type=STRATEGIC)

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

    def serve_pods(self, synced: threading.Event) -> None:
        """List, then watch; relist after any error (a 410, or the API server being restarted)."""
        core = self._core()
        while not self.stopping.is_set():
            try:
                version = self._sync(core)
                synced.set()
                for change in watch.Watch().stream(core.list_pod_for_all_namespaces, resource_version=version,
                                                   timeout_seconds=300, allow_watch_bookmarks=True):
                    if change["type"] in ("ADDED", "MODIFIED", "DELETED"):
                        self.handle(core, change["type"], change["object"])
            except Exception as exc:  # noqa: BLE001 - keep serving across API server restarts
                LOG.warning("pod watch interrupted: %s", exc)
                self.stopping.wait(1.0)


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
