"""gpve_k8s_vm through ansible-playbook: AnsiballZ packs the module with its module_utils, module_defaults
set the connection once for the action group, the env fallbacks are honoured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from k8s_vm_support import COLLECTIONS, REPO, spec

pytestmark = pytest.mark.k8s_vm


def playbook(tmp_path, raw, registry):
    out = str(tmp_path / 'result.json')
    plays = [{
        'name': 'K8s-on-VM', 'hosts': 'localhost', 'gather_facts': False,
        'module_defaults': {'group/gpve.cluster.gpve': {'registry': registry}},
        'tasks': [
            {'name': 'Plan only', 'gpve.cluster.gpve_k8s_vm': raw, 'check_mode': True, 'register': 'planned'},
            {'name': 'Create', 'gpve.cluster.gpve_k8s_vm': raw, 'register': 'created'},
            {'name': 'Again', 'gpve.cluster.gpve_k8s_vm': raw, 'register': 'again'},
            {'name': 'Keep the results', 'ansible.builtin.copy': {
                'content': '{{ {"planned": planned, "created": created, "again": again} | to_json }}',
                'dest': out, 'mode': '0600'}},
        ],
    }]
    path = tmp_path / 'site.yml'
    path.write_text(yaml.safe_dump(plays))
    return str(path), out


def test_create_through_ansible_playbook(proxmox, registry_path, tmp_path):
    pve = proxmox.endpoint
    raw = spec(control_plane={'replicas': 1, 'resources': {'memory': 1024, 'disk_size': 20}},
               workers=[{'name': 'w', 'replicas': 1, 'resources': {'memory': 1024, 'disk_size': 20}}])
    site, out = playbook(tmp_path, raw, registry_path)
    # Only the connection given here: a sourced testbed env file also exports the token pair.
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('GPVE_PROXMOX_'))
    env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
               GPVE_PROXMOX_API_URL=pve.url, GPVE_PROXMOX_API_USER=pve.user, GPVE_PROXMOX_API_PASSWORD=pve.password,
               GPVE_PROXMOX_CA_PATH=pve.ca_path, ANSIBLE_HOME=str(tmp_path / 'ansible-home'))
    env.pop('PYTHONPATH', None)
    playbook_bin = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    done = subprocess.run([playbook_bin, '-i', 'localhost,', '-c', 'local', site], env=env, cwd=str(REPO),
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    with open(out) as answer:
        results = json.load(answer)
    assert results['planned']['changed'] is True and results['planned']['cluster']['id'] is None
    assert [n['name'] for n in results['created']['nodes']] == ['demo-cp-1', 'demo-w-1', 'demo-lb']
    assert results['created']['cluster']['phase'] == 'Bootstrapping'
    assert results['again']['changed'] is False
    assert sorted(proxmox.tagged(results['created']['cluster']['id'])) == ['demo-cp-1', 'demo-lb', 'demo-w-1']
