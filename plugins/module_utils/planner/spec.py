# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The K8s-on-VM cluster spec, normalised: every key present, defaults filled in.

Mirrors the seed's K8sClusterSpec in snake_case. Defaults come from the seed's
configuration section (k8sVM): kubeadm, Kubernetes 1.37.2, 3 control planes with
2 cores / 4096 MB / 50 GB, one worker pool of 3 with 4 cores / 8192 MB / 100 GB,
pod CIDR 10.244.0.0/16, service CIDR 10.96.0.0/12, Cilium, HAProxy on port 6443,
template ubuntu-22.04-k8s. The load balancer VM follows the seed's plan: 2 cores,
2048 MB, 20 GB.

The result is plain JSON-safe data: it is what the registry stores as the cluster spec.
Validation is validate.py's job; normalise() only fills gaps and copies.
"""

from __future__ import annotations

import copy

from ansible_collections.gpve.cluster.plugins.module_utils.planner import versions

DEFAULT_DISTRIBUTION = 'kubeadm'
DEFAULT_TEMPLATE = 'ubuntu-22.04-k8s'
DEFAULT_BRIDGE = 'vmbr0'
DEFAULT_WORKER_POOL = 'workers'
DEFAULT_SSH_USER = 'ubuntu'

CONTROL_PLANE_DEFAULTS = {'replicas': 3, 'resources': {'cores': 2, 'memory': 4096, 'disk_size': 50}}
WORKER_DEFAULTS = {'replicas': 3, 'resources': {'cores': 4, 'memory': 8192, 'disk_size': 100}}
LOAD_BALANCER_RESOURCES = {'cores': 2, 'memory': 2048, 'disk_size': 20}
RESOURCE_DEFAULTS = {'sockets': 1, 'cpu_type': None, 'numa': False}

NETWORK_DEFAULTS = {'pod_cidr': '10.244.0.0/16', 'service_cidr': '10.96.0.0/12', 'dns_domain': 'cluster.local'}
DEFAULT_CNI = 'cilium'
DEFAULT_IP_ALLOCATION = 'dhcp'
LOAD_BALANCER_DEFAULTS = {'type': 'haproxy', 'api_server_port': 6443}

# Load balancer types that run on a VM of their own; the others live on the control planes or outside.
LB_TYPES_WITH_VM = ('haproxy', 'keepalived')


def _given(value, default):
    return default if value is None else value


def _labels(raw):
    """Labels as strings (YAML may give numbers or booleans); the registry stores strings."""
    return dict((str(key), value if value is None else str(value)) for key, value in (raw or {}).items())


def _section(raw, key):
    return dict((raw or {}).get(key) or {})


def resources(raw, role_defaults):
    given = dict(raw or {})
    out = {}
    for key, default in list(role_defaults.items()) + list(RESOURCE_DEFAULTS.items()):
        out[key] = _given(given.get(key), default)
    return out


def disks(raw):
    return [{'size': disk.get('size'), 'storage': disk.get('storage')} for disk in raw or []]


def placement(raw, anti_affinity_default):
    given = dict(raw or {})
    return {'nodes': list(given.get('nodes') or []),
            'anti_affinity': _given(given.get('anti_affinity'), anti_affinity_default)}


def taints(raw):
    return [{'key': t.get('key'), 'value': t.get('value'), 'effect': _given(t.get('effect'), 'NoSchedule')}
            for t in raw or []]


def control_plane(raw, template):
    given = dict(raw or {})
    return {
        'replicas': _given(given.get('replicas'), CONTROL_PLANE_DEFAULTS['replicas']),
        'template': _given(given.get('template'), template),
        'resources': resources(given.get('resources'), CONTROL_PLANE_DEFAULTS['resources']),
        'additional_disks': disks(given.get('additional_disks')),
        'placement': placement(given.get('placement'), True),
        'taints': taints(given.get('taints')),
    }


def worker_pool(raw, template):
    given = dict(raw or {})
    return {
        'name': given.get('name'),
        'replicas': _given(given.get('replicas'), WORKER_DEFAULTS['replicas']),
        'min_replicas': given.get('min_replicas'),
        'max_replicas': given.get('max_replicas'),
        'template': _given(given.get('template'), template),
        'resources': resources(given.get('resources'), WORKER_DEFAULTS['resources']),
        'additional_disks': disks(given.get('additional_disks')),
        'labels': _labels(given.get('labels')),
        'taints': taints(given.get('taints')),
        'placement': placement(given.get('placement'), False),
    }


def workers(raw, template):
    """No workers key: one default pool, as the seed's workers.defaultCount; an empty list: none."""
    if raw is None:
        raw = [{'name': DEFAULT_WORKER_POOL}]
    return [worker_pool(pool, template) for pool in raw]


def vm_network(raw, default_bridge):
    given = dict(raw or {})
    ip_range = given.get('ip_range')
    return {
        'bridge': _given(given.get('bridge'), default_bridge or DEFAULT_BRIDGE),
        'vlan': given.get('vlan'),
        'ip_allocation': _given(given.get('ip_allocation'), DEFAULT_IP_ALLOCATION),
        'ip_range': {'start': ip_range.get('start'), 'end': ip_range.get('end')} if ip_range else None,
        'prefix': given.get('prefix'),
        'gateway': given.get('gateway'),
        'dns': list(given.get('dns') or []),
        'search_domain': given.get('search_domain'),
    }


def network(raw, default_bridge):
    given = dict(raw or {})
    cni = dict(given.get('cni') or {})
    out = dict((key, _given(given.get(key), default)) for key, default in NETWORK_DEFAULTS.items())
    out['cni'] = {'type': _given(cni.get('type'), DEFAULT_CNI), 'version': cni.get('version'),
                  'config': dict(cni.get('config') or {})}
    out['vm_network'] = vm_network(given.get('vm_network'), default_bridge)
    return out


def load_balancer(raw, template):
    given = dict(raw or {})
    return {
        'type': _given(given.get('type'), LOAD_BALANCER_DEFAULTS['type']),
        'virtual_ip': given.get('virtual_ip'),
        'external_address': given.get('external_address'),
        'api_server_port': _given(given.get('api_server_port'), LOAD_BALANCER_DEFAULTS['api_server_port']),
        'template': _given(given.get('template'), template),
        'resources': resources(given.get('resources'), LOAD_BALANCER_RESOURCES),
    }


def topology(raw, replicas):
    given = dict(raw or {})
    etcd = given.get('external_etcd')
    return {
        # Unset: derived from the control plane count.
        'high_availability': _given(given.get('high_availability'), replicas > 1),
        'external_etcd': {'endpoints': list(etcd.get('endpoints') or []), 'ca_file': etcd.get('ca_file'),
                          'cert_file': etcd.get('cert_file'), 'key_file': etcd.get('key_file')} if etcd else None,
        'placement': {'nodes': list(_section(given, 'placement').get('nodes') or [])},
    }


def distribution(raw):
    given = dict(raw or {})
    return {'type': _given(given.get('type'), DEFAULT_DISTRIBUTION), 'version': given.get('version'),
            'config': dict(given.get('config') or {})}


def normalise(raw, default_bridge=None):
    """The full spec from what the user gave (module params or a stored spec)."""
    raw = copy.deepcopy(dict(raw or {}))
    dist = distribution(raw.get('distribution'))
    template = DEFAULT_TEMPLATE
    cp = control_plane(raw.get('control_plane'), template)
    ssh = dict(raw.get('ssh') or {})
    return {
        'name': raw.get('name'),
        'labels': _labels(raw.get('labels')),
        'distribution': dist,
        'kubernetes_version': _given(raw.get('kubernetes_version'),
                                     versions.default_version(dist['type']) if dist['type'] in versions.SUPPORTED
                                     else None),
        'topology': topology(raw.get('topology'), cp['replicas'] if isinstance(cp['replicas'], int) else 0),
        'control_plane': cp,
        'workers': workers(raw.get('workers'), cp['template']),
        'network': network(raw.get('network'), default_bridge),
        'load_balancer': load_balancer(raw.get('load_balancer'), cp['template']),
        'addons': dict(raw.get('addons') or {}),
        'ssh': {'user': _given(ssh.get('user'), DEFAULT_SSH_USER), 'public_keys': list(ssh.get('public_keys') or [])},
    }


def has_guest_agent(spec):
    """Whether the VMs' image runs the QEMU guest agent: Talos' nocloud image does not, unless the user added
    the qemu-guest-agent system extension and says so with distribution.config.guest_agent."""
    dist = spec['distribution']
    return bool(dist['config'].get('guest_agent', dist['type'] != 'talos'))


def lb_needs_vm(spec):
    return spec['load_balancer']['type'] in LB_TYPES_WITH_VM


def uses_static_ips(spec):
    return spec['network']['vm_network']['ip_allocation'] == 'static'


def stacked_etcd(spec):
    return spec['topology']['external_etcd'] is None
