"""`make demo` end to end on the session's testbed: python -m tests.demo reuses it (GPVE_TESTBED_ENV), creates a real
1 control plane + 1 worker kubeadm cluster on booted VMs through playbooks/k8s_vm/create.yml and lists its nodes from
its own API server, imports the testbed's own cluster as an external cluster and prints gpve_cluster_info's clusters
as a table (playbooks/external/import.yml), prints the registry's view and the inventory, and gives the testbed back
as it found it. One real cluster (a few minutes on two cores): the demo's only costly step."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from kubernetes import client
from k8s_vm_support import COLLECTIONS, REPO

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.real_cluster import small_cluster_spec

pytestmark = pytest.mark.k8s_vm

SPEC = small_cluster_spec("ssh-ed25519 AAAA demo")
VERSION = re.escape(SPEC['kubernetes_version'])
ENDPOINT = re.escape(f"https://{SPEC['load_balancer']['external_address']}:6443")
NODES = ('demo-cp-1', 'demo-general-1')


def _api_names(kube_client):
    core = client.CoreV1Api(kube_client)
    return ({item.metadata.name for item in core.list_namespace().items},
            {item.metadata.name for item in core.list_node().items})


@pytest.fixture
def fresh_pve(testbed):
    """No VM on fakepve before the demo and none after it (as the real-cluster tests leave it)."""
    control = testbed.pve_control
    control.reset()
    yield control
    control.reset()
    control.clear_faults()


def _run_demo(testbed) -> str:
    env = dict(os.environ, GPVE_TESTBED_ENV=str(testbed.layout.env_file),
               PYTHONPATH=os.pathsep.join((str(COLLECTIONS), str(REPO))))
    done = subprocess.run([sys.executable, '-m', 'tests.demo'], capture_output=True, text=True, env=env, cwd=str(REPO),
                          timeout=2400, check=False)
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-3000:]
    return done.stdout


def test_demo_makes_a_real_cluster_and_gives_a_reused_testbed_back(testbed, kube_client, fresh_pve):
    namespaces_before, nodes_before = _api_names(kube_client)
    boot_vms_before = fresh_pve.state()['boot_vms']
    out = _run_demo(testbed)

    # The cluster's own API server lists its own nodes, Ready at the spec's version, at their VM addresses.
    nodes = out[out.index('== kubectl get nodes -o wide'):out.index('== External cluster')]
    for name in NODES:
        assert re.search(r'^{0} +Ready +\S+ +\S+ +v{1} +172\.30\.\d+\.\d+ '.format(name, VERSION), nodes, re.M), nodes
    assert len(re.findall(r'^demo-', nodes, re.M)) == len(NODES), nodes
    # The registry's view: the cluster's own 2 nodes (not the testbed's), 2 VMs, no load balancer VM.
    assert re.search(r'^  demo +k8s-vm +Running +{0}/v?{0} +2 +2/2 +{1} +'.format(VERSION, ENDPOINT), out, re.M), out
    for name in NODES:
        assert re.search(r'^ +{0} +\S+ .* 172\.30\.\d+\.\d+ .* Running$'.format(name), out, re.M), name
    assert 'drift against Proxmox: in sync (2 VMs as recorded)' in out
    # The admin kubeconfig, and the etcd client of the health checks (create.yml stores it after kubeadm init).
    assert re.search(r'credentials \(encrypted\): etcd-client \(key \S+\), kubeconfig \(key \S+\)$', out, re.M), out
    assert re.search(r'Bootstrapping +Installing .*\n.*Installing +Running +ClusterReady', out), out
    # The external import's table: the testbed's API server with its own nodes, and the demo cluster with its own.
    version = client.VersionApi(kube_client).get_code().git_version
    table = out[out.index('== External cluster'):out.index("== The registry's view")]
    assert re.search(r"^  NAME +TYPE +PHASE +VERSION +ENDPOINT +NODES +HEALTH +PODS$", table, re.M), table
    assert re.search(r"^  testbed +external +Running +{0} +{1} +{2}/{2} +healthy +\d+$".format(
        re.escape(version), re.escape(testbed.api_url), len(testbed.node_names)), table, re.M), table
    assert re.search(r"^  demo +k8s-vm +Running +v?{0} +{1} +2/2 +healthy +\d+$".format(VERSION, ENDPOINT), table,
                     re.M), table
    graph = out[out.index('== The dynamic inventory'):]
    assert '@demo_control_plane:' in graph and '|--demo-general-1' in graph and '@gpve_phase_running:' in graph
    assert re.search(r'^Demo done in \d+s \(testbed \d+s, create_cluster \d+s, import_testbed \d+s, print_registry '
                     r'\d+s, print_inventory \d+s, give back \d+s\)\.$', out, re.M), out[-2000:]

    # Given back: the VMs are gone, boot_vms as it was, the registry keeps the clusters as Deleted, and the testbed's
    # API server has the namespaces and Nodes it had before.
    assert 'Giving the testbed back as it was' in out
    state = fresh_pve.state()
    assert not [vm['name'] for vm in state['vms'] if vm['name'].startswith('demo-')]
    assert state['boot_vms'] == boot_vms_before
    with open_registry(str(testbed.state_dir / 'registry.db'), environ={}) as store:
        clusters = store.bulk_snapshot(include_deleted=True).clusters
        assert {c.status.phase for c in clusters if c.name == 'demo'} == {'Deleted'}
        external = [c for c in clusters if c.name == 'testbed']
        assert external and {c.status.phase for c in external} == {'Deleted'}
        assert not [c for c in store.list_credentials() if c.cluster_id in {e.id for e in external}]
    assert _api_names(kube_client) == (namespaces_before, nodes_before)
