"""A real kubeadm cluster on the testbed's booted VMs, made as a user makes one: ansible-playbook
gpve.cluster's playbooks/k8s_vm/create.yml with a spec, the Proxmox connection in GPVE_PROXMOX_*,
the SSH key in ANSIBLE_PRIVATE_KEY_FILE and the air-gap bundle the testbed builds.

``testbed_vm_vars`` holds what a site sets for VMs like the testbed's (a user's group_vars):
its image mirror, and the few kubelet and containerd settings a VM without a kernel of its own
needs (docs/testbed.md, "What is not real"). Everything else is the collection's defaults.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import subprocess
from pathlib import Path

from kubernetes import client, config

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.playbook_run import ansible_env, finish_playbook, run_playbook, start_playbook
from tests.testbed import binaries, images, network
from tests.testbed.processes import wait_until

REPO = Path(__file__).resolve().parents[1]
PLAYBOOKS = REPO / "playbooks" / "k8s_vm"
# The local chart the add-ons install through kubernetes.core.helm (its image from the bundle).
WEB_CHART = REPO / "tests" / "charts" / "gpve-web"
WEB_CHART_NAMESPACE = "gpve-web"
SSH_USER = "ops"    # not the template's default user: the plays must log in as the spec says
# Where in the testbed's VM range this module's clusters take addresses (test_testbed_vms.py takes +100 on).
FIRST_ADDRESS_OFFSET = 20
POD_CIDR = str(network.VM_CLUSTER_POD_CIDR)          # apart from the testbed cluster's own, guarded too
SERVICE_CIDR = str(network.VM_CLUSTER_SERVICE_CIDR)
PLAY_TIMEOUT = 2400


def testbed_vm_vars(testbed) -> dict:
    """Extra vars for VMs that are testbed machines: a site's mirror, and what a VM lacking its own kernel needs."""
    registry = images.REGISTRY
    return {
        "gpve_airgap_dir": testbed.airgap_dir,
        "kubeadm_image_repository": registry,
        "node_prep_containerd_sandbox_image": f"{registry}/pause:{images.PAUSE_TAG}",
        "cni_image_registry": registry,
        "addons_image_registry": registry,
        "addons_helm_binary": str(binaries.tool("helm") / "helm"),
        # cgroup v1 on the host, no CAP_SYS_RESOURCE in the machines (docs/testbed.md).
        "node_prep_containerd_cgroup_driver": "cgroupfs",
        "node_prep_containerd_restrict_oom_score_adj": True,
        "kubeadm_kubelet_config": {
            "failCgroupV1": False, "cgroupDriver": "cgroupfs", "oomScoreAdj": 0,
            # Images come from the bundle only: garbage collection would delete what cannot be pulled again.
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                             "nodefs.inodesFree": "1%"},
        },
        # The host's conntrack table is not the VM's to size. This host's kernel has no br_netfilter, so
        # bridged pod-to-pod replies skip iptables: Service traffic is masqueraded to come back through it.
        "kubeadm_kube_proxy_config": {"conntrack": {"maxPerCore": 0}, "iptables": {"masqueradeAll": True}},
        # A VM's kernel is the host's: no module to load, no bridge sysctls without br_netfilter, cgroup v1
        # (which kubeadm's SystemVerification refuses).
        "node_prep_kernel_modules": [],
        "node_prep_sysctl": {"net.ipv4.ip_forward": 1},
        "kubeadm_ignore_preflight_errors": ["FileContent--proc-sys-net-bridge-bridge-nf-call-iptables", "SystemVerification"],
        # Two cores run the whole testbed and every VM: a new control plane may take longer than kubeadm's
        # one minute to answer its first API calls (seen in a full suite run).
        "kubeadm_timeouts": {"controlPlaneComponentHealthCheck": "10m0s", "kubeletHealthCheck": "10m0s",
                             "kubernetesAPICall": "5m0s", "etcdAPICall": "5m0s", "tlsBootstrap": "10m0s", "discovery": "10m0s"},
    }


def ssh_env(testbed) -> dict:
    """Ansible's SSH settings for the testbed's VMs: its key, and host keys that change with every new VM."""
    return {"ANSIBLE_PRIVATE_KEY_FILE": testbed.ssh_key, "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=/dev/null "
                                "-o ServerAliveInterval=10"}


def registry_kubeconfig(registry: Path, name: str, path: Path) -> Path:
    """The admin kubeconfig a registry keeps for cluster name, written to path (0600)."""
    with open_registry(str(registry), actor="real-cluster-tests") as store:
        cluster = store.find_cluster(name)
        text = store.get_credential(cluster.id, "kubeconfig").data
    path.write_text(text if isinstance(text, str) else text.decode())
    path.chmod(0o600)
    return path


def vm_address(offset: int) -> str:
    return str(ipaddress.ip_address(network.VmNetwork().range_start) + FIRST_ADDRESS_OFFSET + offset)


def cluster_spec(public_key: str, control_planes: int = 1, workers: int = 2) -> dict:
    """gpve_k8s_vm's options: kubeadm at the testbed's default version, static addresses on the VM bridge."""
    vm_net = network.VmNetwork()
    prefix = ipaddress.ip_network(vm_net.cidr).prefixlen
    high_availability = control_planes > 1
    spec = {
        "distribution": {"type": "kubeadm"},
        "kubernetes_version": os.environ.get("GPVE_TESTBED_K8S_VERSION", "1.37.2"),
        "control_plane": {"replicas": control_planes, "resources": {"cores": 2, "memory": 2048, "disk_size": 20}},
        "workers": [{"name": "general", "replicas": workers, "resources": {"cores": 1, "memory": 1024, "disk_size": 20},
                     "labels": {"tier": "general"}}] if workers else [],
        "network": {
            "pod_cidr": POD_CIDR, "service_cidr": SERVICE_CIDR, "cni": {"type": "flannel"},
            "vm_network": {"bridge": vm_net.bridge, "ip_allocation": "static", "prefix": prefix,
                           "ip_range": {"start": vm_address(1), "end": vm_address(12)},
                           "gateway": vm_net.gateway, "dns": [vm_net.dns]},
        },
        "ssh": {"user": SSH_USER, "public_keys": [public_key]},
        "addons": {"metrics_server": {"enabled": True},
                   "custom_charts": [{"name": "gpve-web", "chart_ref": str(WEB_CHART), "namespace": WEB_CHART_NAMESPACE}]},
        # haproxy on a VM of its own; with several control planes keepalived holds a virtual IP there too.
        "load_balancer": {"type": "haproxy", "resources": {"cores": 1, "memory": 512}},
    }
    if high_availability:
        spec["load_balancer"].update(type="keepalived", virtual_ip=vm_address(0))
    return spec


class RealCluster:
    """One cluster's playbook runs, its registry and working files under workdir."""

    def __init__(self, workdir: Path, testbed, name: str, spec: dict):
        self.dir = workdir
        self.testbed = testbed
        self.name = name
        self.spec = spec
        self.registry_path = workdir / "registry.db"
        pve = testbed.pve
        self.env = ansible_env({
            "GPVE_REGISTRY": str(self.registry_path), "GPVE_PROXMOX_API_URL": pve.url,
            "GPVE_PROXMOX_API_USER": pve.user, "GPVE_PROXMOX_API_PASSWORD": pve.password,
            "GPVE_PROXMOX_CA_PATH": pve.ca_path, **ssh_env(testbed),
            # Each task's time in the logs, and the slowest at the end: where a real run's minutes go.
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "12",
        })
        self.runs = 0

    def addresses(self) -> list[str]:
        """Every address the cluster's VMs (and its virtual IP) may take."""
        vm_net = self.spec["network"]["vm_network"]
        first, last = (ipaddress.ip_address(vm_net["ip_range"][end]) for end in ("start", "end"))
        vip = self.spec["load_balancer"].get("virtual_ip")
        return [str(first + offset) for offset in range(int(last) - int(first) + 1)] + ([vip] if vip else [])

    def check_addresses(self) -> None:
        """Before any playbook connects: each address is on the testbed bridge behind its guard route."""
        for address in self.addresses():
            network.require_testbed_address(address)

    def extra_vars(self, **extra) -> dict:
        return {"gpve_cluster_name": self.name, "gpve_cluster_spec": self.spec, "gpve_work_dir": str(self.dir / "work"),
                **testbed_vm_vars(self.testbed), **extra}

    def _log(self, playbook: str) -> Path:
        self.runs += 1
        return self.dir / f"{self.runs:02d}-{playbook}.log"

    def play(self, playbook: str, **extra):
        """Run playbooks/k8s_vm/<playbook>.yml; the output is in <workdir>/<n>-<playbook>.log."""
        return run_playbook(PLAYBOOKS / f"{playbook}.yml", self.extra_vars(**extra), self.env, self._log(playbook),
                            timeout=PLAY_TIMEOUT)

    def play_losing_vm(self, playbook: str, vm_name: str, once: str):
        """Run the playbook and power the VM vm_name off (as a power failure would) once its output shows once."""
        log = self._log(playbook)
        process = start_playbook(PLAYBOOKS / f"{playbook}.yml", self.extra_vars(), self.env, log)
        wait_until(lambda: once in log.read_text() or process.poll() is not None, PLAY_TIMEOUT, f"{once!r} in {log}",
                   interval=1.0)
        if process.poll() is None:
            self.stop_vm(vm_name)
        return finish_playbook(process, log, PLAY_TIMEOUT)

    def proxmox(self):
        return self.testbed.pve.api()

    def vms(self) -> list[dict]:
        """The cluster's VMs as Proxmox lists them (name, vmid, node, status)."""
        return [vm for vm in self.proxmox().cluster.resources.get(type="vm")
                if vm.get("name", "").startswith(f"{self.name}-") and not vm.get("template")]

    def stop_vm(self, name: str) -> None:
        """Proxmox's hard stop of the VM called name, waited for."""
        self._power(name, "stop")

    def start_vm(self, name: str) -> None:
        """Proxmox's start of the VM called name, waited for (the task, not the guest's boot)."""
        self._power(name, "start")

    def _power(self, name: str, action: str) -> None:
        api = self.proxmox()
        vm = next(vm for vm in self.vms() if vm["name"] == name)
        upid = getattr(api.nodes(vm["node"]).qemu(vm["vmid"]).status, action).post()
        wait_until(lambda: api.nodes(vm["node"]).tasks(upid).status.get()["status"] == "stopped", 120, f"{action} {name}")

    def registered(self):
        """The registry's record of the cluster and its last 200 events, newest first."""
        with open_registry(str(self.registry_path), actor="real-cluster-tests") as store:
            cluster = store.find_cluster(self.name)
            return cluster, store.list_events(cluster.id, limit=200)

    def ssh(self, node: str, command: str) -> subprocess.CompletedProcess:
        """command (a shell line) as root on the cluster's node, through the spec's user and sudo."""
        with open_registry(str(self.registry_path), actor="real-cluster-tests") as store:
            address = next(n.ip_address for n in store.list_nodes(store.find_cluster(self.name).id) if n.name == node)
        return self.testbed.ssh(SSH_USER, address, "sudo", "sh", "-c", shlex.quote(command), timeout=300, check=False)

    def kubeconfig(self) -> Path:
        """The admin kubeconfig the registry keeps for the cluster, as a 0600 file."""
        return registry_kubeconfig(self.registry_path, self.name, self.dir / "admin.conf")

    def api(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig()))


def small_cluster_spec(public_key: str, high_availability: bool = False, workers: int = 1) -> dict:
    """cluster_spec for a small cluster: 3 control planes behind the load balancer VM (keepalived's virtual IP) when
    high_availability, else one control plane and no load balancer VM (type external: the API endpoint is the
    control plane's own address, the first of the range, which the plan gives the first control plane)."""
    spec = cluster_spec(public_key, control_planes=3 if high_availability else 1, workers=workers)
    if not high_availability:
        spec["load_balancer"] = {"type": "external", "external_address": vm_address(1)}
    return spec
