"""`make demo` end to end on the session's testbed: python -m tests.demo reuses it (GPVE_TESTBED_ENV), creates the
demo cluster through playbooks/k8s_vm/create.yml, imports the testbed's own cluster as an external cluster and prints
gpve_cluster_info's clusters as a table (playbooks/external/import.yml), prints the registry's view and the inventory,
and gives the testbed back as it found it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml
from kubernetes import client
from k8s_vm_support import COLLECTIONS, REPO

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry

pytestmark = pytest.mark.k8s_vm

DEMO_VERSION = yaml.safe_load((REPO / 'tests/demo/demo_cluster.yml').read_text())['gpve_cluster_spec']['kubernetes_version']
NODES = ('demo-cp-1', 'demo-cp-2', 'demo-cp-3', 'demo-general-1', 'demo-general-2', 'demo-lb')


def _api_names(kube_client):
    core = client.CoreV1Api(kube_client)
    return ({item.metadata.name for item in core.list_namespace().items},
            {item.metadata.name for item in core.list_node().items})


@pytest.fixture
def testbed(standin_testbed):
    """The demo runs on a stand-in testbed (tests/demo/environment.py says why)."""
    return standin_testbed


@pytest.fixture
def kube_client(standin_testbed):
    from kubernetes import config
    api = config.new_client_from_config(standin_testbed.kubeconfig)
    yield api
    api.close()


def test_demo_runs_end_to_end_and_gives_a_reused_testbed_back(testbed, kube_client):
    namespaces_before, nodes_before = _api_names(kube_client)
    env = dict(os.environ, GPVE_TESTBED_ENV=str(testbed.layout.env_file),
               PYTHONPATH=os.pathsep.join((str(COLLECTIONS), str(REPO))))
    done = subprocess.run([sys.executable, '-m', 'tests.demo'], capture_output=True, text=True, env=env, cwd=str(REPO),
                          timeout=1200, check=False)
    out = done.stdout
    assert done.returncode == 0, out[-6000:] + done.stderr[-3000:]

    assert 'skipped inside the VMs (gpve_skip_guest_steps=true)' in out and 'no operating system to SSH into' in out
    assert re.search(r'^  demo +k8s-vm +Running +{0}/\S+ +6 '.format(re.escape(DEMO_VERSION)), out, re.M), out
    for name in NODES:
        assert re.search(r'^ +{0} +\S+ .* 10\.40\.0\.\d+ .* Running$'.format(name), out, re.M), name
    assert 'drift against Proxmox: in sync (6 VMs as recorded)' in out
    assert 'credentials (encrypted): kubeconfig' in out
    assert re.search(r'Bootstrapping +Installing .*\n.*Installing +Running +ClusterReady', out), out
    # The external import: the testbed's API server with what it had during the demo (its own stand-in nodes and the
    # demo's), all Ready, in the table of every cluster, with live health.
    demo_nodes = re.search(r"Nodes the kubelet stand-in registered: (.+) \(on the testbed", out).group(1).split(", ")
    total = len(testbed.node_names) + len(demo_nodes)
    version = client.VersionApi(kube_client).get_code().git_version
    table = out[out.index('== External cluster'):out.index("== The registry's view")]
    assert re.search(r"^  NAME +TYPE +PHASE +VERSION +ENDPOINT +NODES +HEALTH +PODS$", table, re.M), table
    assert re.search(r"^  testbed +external +Running +{0} +{1} +{2}/{2} +healthy +\d+$".format(
        re.escape(version), re.escape(testbed.api_url), total), table, re.M), (total, table)
    assert re.search(r"^  demo +k8s-vm +Running +", table, re.M), table
    graph = out[out.index('== The dynamic inventory'):]
    assert '@demo_control_plane:' in graph and '|--demo-general-2' in graph and '@gpve_phase_running:' in graph

    # Given back: the testbed still runs, the VMs are gone, the registry keeps the cluster as Deleted, and the API
    # server has the namespaces and Nodes it had before.
    assert 'Giving the testbed back as it was' in out
    assert all(state['ready'] for state in testbed.status().values())
    assert not [vm['name'] for vm in testbed.pve_control.state()['vms'] if vm['name'].startswith('demo-')]
    with open_registry(str(testbed.state_dir / 'registry.db'), environ={}) as store:
        phases = [c.status.phase for c in store.bulk_snapshot(include_deleted=True).clusters if c.name == 'demo']
    assert phases and set(phases) == {'Deleted'}
    with open_registry(str(testbed.state_dir / 'registry.db'), environ={}) as store:
        external = [c for c in store.bulk_snapshot(include_deleted=True).clusters if c.name == 'testbed']
        assert external and {c.status.phase for c in external} == {'Deleted'}
        assert not [c for c in store.list_credentials() if c.cluster_id in {e.id for e in external}]
    assert _api_names(kube_client) == (namespaces_before, nodes_before)
