"""Helpers of the K8s-on-VM integration tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm.service import K8sVmService, Request
from ansible_collections.gpve.cluster.plugins.module_utils.planner.plan import Options
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import formats
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.client import ConnectionOptions, ProxmoxClient
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry

REPO = Path(__file__).resolve().parents[3]
COLLECTIONS = REPO / '.build' / 'collections'
MODULE = COLLECTIONS / 'ansible_collections' / 'gpve' / 'cluster' / 'plugins' / 'modules' / 'gpve_k8s_vm.py'
KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RiZWQta2V5LWZvci1ncHZlLWs4cy12bQ demo@testbed'


def spec(name='demo', **overrides):
    """Three control planes, two worker pools, static addresses: sized for the testbed's 6 GiB per node."""
    raw = {
        'name': name,
        'control_plane': {'replicas': 3, 'resources': {'memory': 1024, 'disk_size': 20}},
        'workers': [{'name': 'general', 'replicas': 2, 'resources': {'cores': 2, 'memory': 1024, 'disk_size': 20}},
                    {'name': 'storage', 'replicas': 1, 'resources': {'memory': 1024, 'disk_size': 20},
                     'additional_disks': [{'size': 30}], 'labels': {'disk': 'ssd'}}],
        'network': {'vm_network': {'ip_allocation': 'static',
                                   'ip_range': {'start': '10.20.0.10', 'end': '10.20.0.40'},
                                   'prefix': 24, 'gateway': '10.20.0.1', 'dns': ['10.20.0.2']}},
        'load_balancer': {'type': 'keepalived', 'virtual_ip': '10.20.0.5', 'resources': {'memory': 1024}},
        'ssh': {'public_keys': [KEY]},
    }
    raw.update(copy.deepcopy(overrides))
    return raw


def registry_for(path):
    return open_registry(path, actor='k8s-vm-tests')


def connection(pve):
    return ConnectionOptions(api_url=pve.url, api_user=pve.user, api_password=pve.password, ca_path=pve.ca_path)


def service_for(store, proxmox):
    return K8sVmService(store, lambda: ProxmoxClient(connection(proxmox.endpoint)))


def request(raw, state='present', check_mode=False, agent_timeout=60, **options):
    return Request(spec=raw, state=state, options=Options(**options), check_mode=check_mode,
                   agent_timeout=agent_timeout, task_timeout=120)


class Proxmox:
    """The fake as a test sees it: its endpoint, its control channel, and reads of its state."""

    def __init__(self, endpoint, control):
        self.endpoint = endpoint
        self.control = control

    def client(self):
        return ProxmoxClient(connection(self.endpoint))

    def state(self):
        return self.control.state()

    def guests(self):
        """Every VM that is not a template: {name: {vmid, node, status, config}}."""
        out = {}
        for vm in self.state()['vms']:
            if vm['template']:
                continue
            assert vm['name'] not in out, 'two VMs named {0}'.format(vm['name'])
            out[vm['name']] = vm
        return out

    def tagged(self, cluster_id):
        tag = 'gpve-cluster-{0}'.format(cluster_id)
        return dict((name, vm) for name, vm in self.guests().items()
                    if tag in formats.split_tags(vm['config'].get('tags')))

    def mark(self):
        """A point in the fake's request log (it spans the whole session)."""
        return len(self.control.requests())

    def requests_since(self, mark):
        return self.control.requests()[mark:]

    def writes(self):
        """Every API request that was not a read, as [method, path]."""
        return [r for r in self.control.requests() if r[0] != 'GET' and not r[1].endswith('/access/ticket')]


def registry_state(store):
    """Everything the registry holds, for before/after comparisons."""
    snapshot = store.bulk_snapshot(include_deleted=True)
    return {'clusters': [c.as_dict() for c in snapshot.clusters],
            'nodes': dict((k, [n.as_dict() for n in v]) for k, v in snapshot.nodes.items()),
            'events': [e.as_dict() for e in store.list_events(limit=1000)]}


class ModuleRunner:
    """Runs plugins/modules/gpve_k8s_vm.py as Ansible runs it: a separate Python process fed a JSON args file."""

    def __init__(self, proxmox, registry_path, tmp_path):
        self.proxmox = proxmox
        self.registry_path = registry_path
        self.tmp_path = Path(tmp_path)
        self.count = 0

    def args(self, raw, **extra):
        pve = self.proxmox.endpoint
        args = dict(raw, api_url=pve.url, api_user=pve.user, api_password=pve.password, ca_path=pve.ca_path,
                    registry=self.registry_path, agent_timeout=60, task_timeout=120)
        args.update(extra)
        return args

    def start(self, raw, check_mode=False, diff=False, **extra):
        """Start the module; returns the Popen (stdout is the module's JSON answer)."""
        self.count += 1
        path = self.tmp_path / 'args-{0}.json'.format(self.count)
        module_args = dict(self.args(raw, **extra), _ansible_check_mode=check_mode, _ansible_diff=diff)
        path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': module_args}))
        os.chmod(path, 0o600)
        env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
        for name in [n for n in env if n.startswith('GPVE_PROXMOX_')]:
            del env[name]
        return subprocess.Popen([sys.executable, str(MODULE), str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, cwd=str(self.tmp_path))

    def run(self, raw, **kwargs):
        process = self.start(raw, **kwargs)
        out, err = process.communicate(timeout=900)
        try:
            return json.loads(out)
        except ValueError:
            raise AssertionError('module printed no JSON (rc {0}): {1} {2}'.format(process.returncode, out, err))
