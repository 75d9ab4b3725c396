"""`make demo` end to end on the session's testbed: python -m tests.demo reuses it (GPVE_TESTBED_ENV), creates the
demo cluster through playbooks/k8s_vm/create.yml, prints the registry's view and the inventory, and gives the testbed
back as it found it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from kubernetes import client
from k8s_vm_support import COLLECTIONS, REPO

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry

pytestmark = pytest.mark.k8s_vm

NODES = ('demo-cp-1', 'demo-cp-2', 'demo-cp-3', 'demo-general-1', 'demo-general-2', 'demo-lb')


def _api_names(kube_client):
    core = client.CoreV1Api(kube_client)
    return ({item.metadata.name for item in core.list_namespace().items},
            {item.metadata.name for item in core.list_node().items})


def test_demo_runs_end_to_end_and_gives_a_reused_testbed_back(testbed, kube_client):
    namespaces_before, nodes_before = _api_names(kube_client)
    env = dict(os.environ, GPVE_TESTBED_ENV=str(testbed.layout.env_file),
               PYTHONPATH=os.pathsep.join((str(COLLECTIONS), str(REPO))))
    done = subprocess.run([sys.executable, '-m', 'tests.demo'], capture_output=True, text=True, env=env, cwd=str(REPO),
                          timeout=1200, check=False)
    out = done.stdout
    assert done.returncode == 0, out[-6000:] + done.stderr[-3000:]

    assert 'skipped inside the VMs (gpve_skip_guest_steps=true)' in out and 'no operating system to SSH into' in out
    assert re.search(r'^  demo +k8s-vm +Running +1\.29\.0/\S+ +6 ', out, re.M), out
    for name in NODES:
        assert re.search(r'^ +{0} +\S+ .* 10\.40\.0\.\d+ .* Running$'.format(name), out, re.M), name
    assert 'drift against Proxmox: in sync (6 VMs as recorded)' in out
    assert 'credentials (encrypted): kubeconfig' in out
    assert re.search(r'Bootstrapping +Installing .*\n.*Installing +Running +ClusterReady', out), out
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
    assert _api_names(kube_client) == (namespaces_before, nodes_before)
