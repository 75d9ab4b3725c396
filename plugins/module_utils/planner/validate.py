# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every rule a K8s-on-VM spec must pass before anything is written.

validate_spec() checks the spec alone; validate_environment() what depends on Proxmox
and the registry (quorum, nodes, the static range against other clusters' addresses).
Placement, templates and free memory are checked while planning (placement.py, plan.py)
because they depend on where each VM lands. Each rule raises ValidationError(field,
message) whose message says what is wrong and how to fix it.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import ipam, naming, plan as plans, spec as specs, vmids
from ansible_collections.gpve.cluster.plugins.module_utils.planner import versions

CNI_TYPES = ('calico', 'cilium', 'flannel', 'weave', 'custom')
IP_ALLOCATIONS = ('dhcp', 'static', 'cloud-init')
LB_TYPES = ('haproxy', 'keepalived', 'kube-vip', 'metallb', 'external')
LB_TYPES_NEEDING_VIP = ('keepalived', 'kube-vip', 'metallb')
TAINT_EFFECTS = ('NoSchedule', 'PreferNoSchedule', 'NoExecute')
MIN_MEMORY_MB = 512
# Upper bounds: what a Proxmox VE guest can have (qemu-server's limits), and what one cluster may hold.
MAX_CORES = 512
MAX_SOCKETS = 16
MAX_MEMORY_MB = 4 * 1024 * 1024
MAX_DISK_GB = 128 * 1024
MAX_ADDITIONAL_DISKS = 16
MAX_CONTROL_PLANES = 9
MAX_POOL_REPLICAS = 1000
MAX_TIMEOUT_S = 24 * 3600
MAX_PARALLEL = 64
# addons and other free-form documents, once expanded (the registry's own bound is larger).
MAX_DOCUMENT_BYTES = 256 * 1024
DNS_SUBDOMAIN = re.compile(r'^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
LABEL_NAME = re.compile(r'^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$')
LABEL_VALUE = re.compile(r'^(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)$')
BRIDGE = re.compile(r'^[A-Za-z][A-Za-z0-9_.-]{0,14}$')
LINUX_USER = re.compile(r'^[a-z_][a-z0-9_-]{0,31}$')
SSH_KEY = re.compile(r'^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)'
                     r'@openssh\.com) [A-Za-z0-9+/=]+( .*)?$')


def fail(field, message):
    raise ValidationError(field, message)


# ------------------------------------------------------------------ helpers

def _network(text, field):
    try:
        return ipaddress.IPv4Network(str(text), strict=True)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError) as exc:
        fail(field, '{0!r} is not an IPv4 network in CIDR form ({1}); write it like 10.244.0.0/16 with the host bits '
                    'zero'.format(text, exc))


def _address(text, field):
    try:
        return ipaddress.IPv4Address(str(text))
    except (ipaddress.AddressValueError, ValueError):
        fail(field, '{0!r} is not an IPv4 address; write it like 192.168.10.5'.format(text))


def _count(value, field, minimum, maximum):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum or value > maximum:
        fail(field, 'must be a whole number of at least {0} and at most {1}, got {2!r}'.format(minimum, maximum, value))


def vm_subnet(vm_network):
    """The VMs' subnet: from the range start (or the gateway) and the prefix; None when not known."""
    anchor = (vm_network.get('ip_range') or {}).get('start') or vm_network.get('gateway')
    if anchor is None or vm_network.get('prefix') is None:
        return None
    return ipaddress.IPv4Network('{0}/{1}'.format(anchor, vm_network['prefix']), strict=False)


# -------------------------------------------------------------------- rules

def check_name(spec):
    name = spec['name']
    if not name:
        fail('name', 'the cluster needs a name: a DNS-1123 label such as "prod-eu1"')
    if not naming.is_dns1123_label(name):
        fail('name', '{0!r} is not a DNS-1123 label: use at most 63 lower-case letters, digits and "-", starting and '
                     'ending with a letter or digit (for example "prod-eu1")'.format(name))


def check_distribution(spec):
    dist = spec['distribution']
    if dist['type'] not in versions.SUPPORTED:
        fail('distribution.type', '{0!r} is not supported; choose one of {1}'.format(
            dist['type'], ', '.join(sorted(versions.SUPPORTED))))
    version = spec['kubernetes_version']
    if versions.parse(version) is None:
        fail('kubernetes_version', '{0!r} is not a Kubernetes release; write it as MAJOR.MINOR.PATCH, for example '
                                   '{1}'.format(version, versions.default_version(dist['type'])))
    if not versions.is_supported(dist['type'], version):
        fail('kubernetes_version', versions.unsupported_message(version))
    if dist['version']:
        _check_release(dist, version)


def _check_release(dist, kubernetes_version):
    example = versions.release_example(dist['type'], str(kubernetes_version).lstrip('v'))
    try:
        inside = versions.release_kubernetes_version(dist['type'], dist['version'])
    except ValueError:
        fail('distribution.version', '{0!r} is not how {1} names a release; write it like {2}, or leave it unset to '
                                     'follow kubernetes_version'.format(dist['version'], dist['type'], example))
    if inside and versions.parse(inside) != versions.parse(kubernetes_version):
        fail('distribution.version', '{0} carries Kubernetes {1} but kubernetes_version is {2}; make them agree (for '
                                     'example {3}) or leave distribution.version unset'.format(
                                         dist['version'], inside, kubernetes_version, example))


def check_resources(res, field):
    _count(res['cores'], field + '.cores', 1, MAX_CORES)
    _count(res['sockets'], field + '.sockets', 1, MAX_SOCKETS)
    _count(res['memory'], field + '.memory', MIN_MEMORY_MB, MAX_MEMORY_MB)
    _count(res['disk_size'], field + '.disk_size', 1, MAX_DISK_GB)


def check_disks(disks, field):
    if len(disks) > MAX_ADDITIONAL_DISKS:
        fail(field, 'at most {0} additional disks per VM, got {1}'.format(MAX_ADDITIONAL_DISKS, len(disks)))
    for n, disk in enumerate(disks):
        _count(disk['size'], '{0}[{1}].size'.format(field, n), 1, MAX_DISK_GB)


def check_taints(taints, field):
    for n, taint in enumerate(taints):
        where = '{0}[{1}]'.format(field, n)
        if not taint.get('key') or not _is_label_key(taint['key']):
            fail(where + '.key', 'a taint needs a key that is a valid label name, got {0!r}'.format(taint.get('key')))
        if taint.get('value') and not LABEL_VALUE.match(str(taint['value'])):
            fail(where + '.value', '{0!r} is not a valid label value (63 letters, digits, "-", "_", "." at most, '
                                   'alphanumeric at both ends)'.format(taint['value']))
        if taint['effect'] not in TAINT_EFFECTS:
            fail(where + '.effect', '{0!r} is not a taint effect; use one of {1}'.format(
                taint['effect'], ', '.join(TAINT_EFFECTS)))


def _is_label_key(key):
    prefix, sep, name = str(key).rpartition('/')
    if sep and not DNS_SUBDOMAIN.match(prefix):
        return False
    return bool(LABEL_NAME.match(name))


def check_labels(labels, field):
    for key, value in labels.items():
        if not _is_label_key(key):
            fail(field, '{0!r} is not a valid label key: an optional DNS prefix and "/", then up to 63 letters, digits, '
                        '"-", "_" or "." starting and ending alphanumeric'.format(key))
        if not LABEL_VALUE.match(str(value if value is not None else '')):
            fail('{0}.{1}'.format(field, key), '{0!r} is not a valid label value (up to 63 letters, digits, "-", '
                                               '"_" or ".", alphanumeric at both ends)'.format(value))


def check_control_plane(spec):
    cp = spec['control_plane']
    _count(cp['replicas'], 'control_plane.replicas', 1, MAX_CONTROL_PLANES)
    if specs.stacked_etcd(spec) and cp['replicas'] % 2 == 0:
        fail('control_plane.replicas', '{0} control planes with stacked etcd cannot keep quorum through a failure; use '
                                       'an odd count ({1} or {2}), or topology.external_etcd'.format(
                                           cp['replicas'], cp['replicas'] - 1, cp['replicas'] + 1))
    check_resources(cp['resources'], 'control_plane.resources')
    check_disks(cp['additional_disks'], 'control_plane.additional_disks')
    check_taints(cp['taints'], 'control_plane.taints')


def check_topology(spec):
    topology = spec['topology']
    replicas = spec['control_plane']['replicas']
    minimum = 3 if specs.stacked_etcd(spec) else 2
    if topology['high_availability'] and replicas < minimum:
        fail('topology.high_availability', 'high availability needs at least {0} control planes, the spec has {1}; '
                                           'set control_plane.replicas to {0} or high_availability to false'.format(
                                               minimum, replicas))
    if topology['high_availability'] is False and replicas > 1:
        fail('topology.high_availability', 'false with {0} control planes; set it to true or control_plane.replicas '
                                           'to 1'.format(replicas))
    etcd = topology['external_etcd']
    if etcd is not None:
        if not etcd['endpoints']:
            fail('topology.external_etcd.endpoints', 'list the external etcd members, such as '
                                                     'https://10.0.0.21:2379, or drop external_etcd for stacked etcd')
        for n, url in enumerate(etcd['endpoints']):
            parts = urlsplit(str(url))
            if parts.scheme not in ('https', 'http') or not parts.hostname:
                fail('topology.external_etcd.endpoints[{0}]'.format(n), '{0!r} is not an etcd client URL; write it '
                                                                        'like https://10.0.0.21:2379'.format(url))
        members = len(etcd['endpoints'])
        if members % 2 == 0:
            fail('topology.external_etcd.endpoints', '{0} etcd members cannot keep quorum through a failure any better '
                                                     'than {1}; list an odd number of members ({1} or {2})'.format(
                                                         members, members - 1, members + 1))


def check_workers(spec):
    seen = set()
    longest = spec['control_plane']['replicas']
    for n, pool in enumerate(spec['workers']):
        field = 'workers[{0}]'.format(n)
        name = pool['name']
        if not name or not naming.is_dns1123_label(name):
            fail(field + '.name', 'each worker pool needs a name that is a DNS-1123 label (lower-case letters, digits, '
                                  '"-"), got {0!r}'.format(name))
        if name in naming.RESERVED_POOL_NAMES:
            fail(field + '.name', '{0!r} is reserved for the {1} VMs; rename the pool'.format(
                name, 'control plane' if name == 'cp' else 'load balancer'))
        if name in seen:
            fail(field + '.name', 'two worker pools are named {0!r}; pool names must be unique'.format(name))
        seen.add(name)
        _check_pool_counts(pool, field)
        check_resources(pool['resources'], field + '.resources')
        check_disks(pool['additional_disks'], field + '.additional_disks')
        check_labels(pool['labels'], field + '.labels')
        check_taints(pool['taints'], field + '.taints')
        check_vm_name_length(spec['name'], naming.worker_name(spec['name'], name, max(pool['replicas'], 1)),
                             field + '.name')
    check_vm_name_length(spec['name'], naming.control_plane_name(spec['name'], longest), 'name')


def _check_pool_counts(pool, field):
    _count(pool['replicas'], field + '.replicas', 0, MAX_POOL_REPLICAS)
    low, high = pool['min_replicas'], pool['max_replicas']
    if low is not None:
        _count(low, field + '.min_replicas', 0, MAX_POOL_REPLICAS)
        if pool['replicas'] < low:
            fail(field + '.replicas', '{0} is below min_replicas {1}; raise replicas or lower min_replicas'.format(
                pool['replicas'], low))
    if high is not None:
        _count(high, field + '.max_replicas', 1, MAX_POOL_REPLICAS)
        if pool['replicas'] > high:
            fail(field + '.replicas', '{0} is above max_replicas {1}; lower replicas or raise max_replicas'.format(
                pool['replicas'], high))
    if low is not None and high is not None and low > high:
        fail(field + '.min_replicas', '{0} is above max_replicas {1}; swap them'.format(low, high))


def check_vm_name_length(cluster, longest_name, field):
    if len(longest_name) > naming.MAX_LABEL:
        fail(field, 'the VM name {0!r} would be {1} characters, over the 63 a host name allows; shorten the cluster '
                    'or pool name'.format(longest_name, len(longest_name)))


def check_cluster_network(spec):
    net = spec['network']
    pods = _network(net['pod_cidr'], 'network.pod_cidr')
    services = _network(net['service_cidr'], 'network.service_cidr')
    if pods.overlaps(services):
        fail('network.service_cidr', '{0} overlaps network.pod_cidr {1}; choose disjoint ranges (defaults: pods '
                                     '10.244.0.0/16, services 10.96.0.0/12)'.format(services, pods))
    if not DNS_SUBDOMAIN.match(str(net['dns_domain'] or '')):
        fail('network.dns_domain', '{0!r} is not a DNS domain; use something like cluster.local'.format(net['dns_domain']))
    if net['cni']['type'] not in CNI_TYPES:
        fail('network.cni.type', '{0!r} is not supported; choose one of {1}'.format(net['cni']['type'], ', '.join(CNI_TYPES)))
    subnet = vm_subnet(net['vm_network'])
    for field, cidr in (('network.pod_cidr', pods), ('network.service_cidr', services)):
        if subnet is not None and cidr.overlaps(subnet):
            fail(field, '{0} overlaps the VM network {1}; pods and services need ranges the VMs do not use'.format(
                cidr, subnet))


def check_vm_network(spec):
    vm_net = spec['network']['vm_network']
    field = 'network.vm_network'
    if not BRIDGE.match(str(vm_net['bridge'] or '')):
        fail(field + '.bridge', '{0!r} is not a Linux bridge name such as vmbr0'.format(vm_net['bridge']))
    if vm_net['vlan'] is not None and not (isinstance(vm_net['vlan'], int) and 1 <= vm_net['vlan'] <= 4094):
        fail(field + '.vlan', 'a VLAN tag is 1 to 4094, got {0!r}'.format(vm_net['vlan']))
    if vm_net['ip_allocation'] not in IP_ALLOCATIONS:
        fail(field + '.ip_allocation', '{0!r} is not one of {1}'.format(vm_net['ip_allocation'], ', '.join(IP_ALLOCATIONS)))
    for n, server in enumerate(vm_net['dns']):
        _address(server, '{0}.dns[{1}]'.format(field, n))
    if vm_net['prefix'] is not None and not (isinstance(vm_net['prefix'], int) and 1 <= vm_net['prefix'] <= 32):
        fail(field + '.prefix', 'a prefix length is 1 to 32, got {0!r}'.format(vm_net['prefix']))
    if vm_net['ip_allocation'] == 'static':
        _check_static(vm_net, field)
    elif not specs.has_guest_agent(spec):
        message = ('{0} with {1}: only the QEMU guest agent could report the address, and these VMs run none (Talos '
                   'images lack it); use ip_allocation: static, or add the qemu-guest-agent system extension to the image '
                   'and set distribution.config.guest_agent: true')
        fail(field + '.ip_allocation', message.format(vm_net['ip_allocation'], spec['distribution']['type']))
    elif vm_net['ip_range']:
        fail(field + '.ip_range', 'only used with ip_allocation: static (it is {0}); set ip_allocation to static or '
                                  'remove ip_range'.format(vm_net['ip_allocation']))
    if vm_net['gateway'] is not None:
        gateway = _address(vm_net['gateway'], field + '.gateway')
        subnet = vm_subnet(vm_net)
        if subnet is not None and gateway not in subnet:
            fail(field + '.gateway', '{0} is outside the VM subnet {1}; use a gateway inside it'.format(gateway, subnet))


def _check_static(vm_net, field):
    if not vm_net['ip_range'] or not vm_net['ip_range'].get('start') or not vm_net['ip_range'].get('end'):
        fail(field + '.ip_range', 'static addresses need a range: set ip_range.start and ip_range.end (and prefix, '
                                  'gateway), or use ip_allocation: dhcp')
    if vm_net['prefix'] is None:
        fail(field + '.prefix', 'static addresses need the subnet prefix length, such as 24')
    start = _address(vm_net['ip_range']['start'], field + '.ip_range.start')
    end = _address(vm_net['ip_range']['end'], field + '.ip_range.end')
    if start > end:
        fail(field + '.ip_range', 'start {0} is after end {1}; swap them'.format(start, end))
    subnet = vm_subnet(vm_net)
    if end not in subnet:
        fail(field + '.ip_range', '{0}-{1} does not fit in one /{2} subnet ({3}); shrink the range or widen the '
                                  'prefix'.format(start, end, vm_net['prefix'], subnet))


def check_load_balancer(spec):
    lb = spec['load_balancer']
    vm_net = spec['network']['vm_network']
    if lb['type'] not in LB_TYPES:
        fail('load_balancer.type', '{0!r} is not one of {1}'.format(lb['type'], ', '.join(LB_TYPES)))
    port = lb['api_server_port']
    if not isinstance(port, int) or not 1 <= port <= 65535:
        fail('load_balancer.api_server_port', 'a TCP port is 1 to 65535, got {0!r}'.format(port))
    if lb['type'] == 'external' and not lb['external_address']:
        fail('load_balancer.external_address', 'type external needs the address of your load balancer (host name or '
                                               'IP) that forwards to the API servers')
    if lb['type'] in LB_TYPES_NEEDING_VIP and not lb['virtual_ip']:
        fail('load_balancer.virtual_ip', '{0} announces a virtual IP for the API server; set one in the VM subnet, '
                                         'outside ip_range'.format(lb['type']))
    if lb['virtual_ip'] and lb['type'] not in LB_TYPES_NEEDING_VIP:
        fail('load_balancer.virtual_ip', 'type {0} announces no virtual IP, so nothing would answer on {1}: use type '
                                         'keepalived (haproxy with keepalived holding the virtual IP) or kube-vip, or '
                                         'leave virtual_ip out'.format(lb['type'], lb['virtual_ip']))
    if lb['virtual_ip']:
        _check_virtual_ip(lb['virtual_ip'], vm_net)
    if specs.lb_needs_vm(spec):
        check_resources(lb['resources'], 'load_balancer.resources')


def _check_virtual_ip(virtual_ip, vm_net):
    field = 'load_balancer.virtual_ip'
    vip = _address(virtual_ip, field)
    subnet = vm_subnet(vm_net)
    if subnet is None:
        fail('network.vm_network.prefix', 'needed with load_balancer.virtual_ip to check that the virtual IP is in the '
                                          'VM subnet: set prefix and gateway (or ip_range)')
    if vip not in subnet:
        fail(field, '{0} is outside the VM subnet {1}; choose an address inside it'.format(vip, subnet))
    if subnet.prefixlen < 31 and vip in (subnet.network_address, subnet.broadcast_address):
        fail(field, '{0} is the {1} address of the VM subnet {2}, which no host can hold; choose a host address in '
                    'it'.format(vip, 'network' if vip == subnet.network_address else 'broadcast', subnet))
    if vm_net.get('gateway') and vip == ipaddress.IPv4Address(vm_net['gateway']):
        fail(field, '{0} is the gateway; choose a free address in {1}'.format(vip, subnet))
    if str(vip) in [str(server) for server in vm_net.get('dns') or ()]:
        fail(field, '{0} is a DNS server of network.vm_network.dns; choose a free address in {1}'.format(vip, subnet))
    ip_range = vm_net.get('ip_range')
    if ip_range and vm_net['ip_allocation'] == 'static':
        start, end = ipaddress.IPv4Address(ip_range['start']), ipaddress.IPv4Address(ip_range['end'])
        if start <= vip <= end:
            fail(field, '{0} is inside the node range {1}-{2}, so a VM could get it; choose an address outside the '
                        'range'.format(vip, start, end))


def check_ssh(spec):
    ssh = spec['ssh']
    if not LINUX_USER.match(str(ssh['user'] or '')):
        fail('ssh.user', '{0!r} is not a Linux user name (lower-case letters, digits, "_", "-")'.format(ssh['user']))
    for n, key in enumerate(ssh['public_keys']):
        if not SSH_KEY.match(str(key).strip()):
            fail('ssh.public_keys[{0}]'.format(n), 'not an OpenSSH public key ("ssh-ed25519 AAAA... comment"); paste '
                                                   'the .pub file, not the private key')


def check_static_capacity(spec, taken_ips=()):
    """The static range holds every VM of the plan (and the load balancer VM), minus other clusters' addresses."""
    if not specs.uses_static_ips(spec):
        return
    vm_net = spec['network']['vm_network']
    pool = ipam.AddressPool.from_vm_network(vm_net, spec['load_balancer'].get('virtual_ip'))
    need = len(plans.members(spec))
    free = pool.free_count(taken_ips)
    if free < need:
        fail('network.vm_network.ip_range', '{0}-{1} has {2} usable addresses free (gateway, DNS servers, the virtual '
                                            'IP and addresses of other clusters excluded) but the cluster needs {3} '
                                            '({4}); widen the range'.format(
                                                pool.start, pool.end, free, need, _need_detail(spec)))


def _need_detail(spec):
    parts = ['{0} control planes'.format(spec['control_plane']['replicas'])]
    parts += ['{0} in pool {1}'.format(p['replicas'], p['name']) for p in spec['workers']]
    if specs.lb_needs_vm(spec):
        parts.append('1 load balancer VM')
    return ', '.join(parts)


def check_documents(spec):
    """Free-form documents (addons, distribution and CNI config) bounded in size once expanded: an alias bomb."""
    for field, value in (('addons', spec.get('addons')), ('distribution.config', spec['distribution'].get('config')),
                         ('network.cni.config', spec['network']['cni'].get('config'))):
        if value is not None:
            checks.bounded(value, field, MAX_DOCUMENT_BYTES)
    check_labels(spec.get('labels') or {}, 'labels')


def check_run_options(options, task_timeout, agent_timeout, per_node, per_storage):
    """The module's options outside the spec: VMIDs, timeouts and concurrency, each within its range."""
    _count(options.vmid_start, 'vmid_start', vmids.MIN_VMID, vmids.MAX_VMID)
    _count(task_timeout, 'task_timeout', 1, MAX_TIMEOUT_S)
    _count(agent_timeout, 'agent_timeout', 1, MAX_TIMEOUT_S)
    _count(per_node, 'max_parallel_per_node', 1, MAX_PARALLEL)
    _count(per_storage, 'max_parallel_per_storage', 1, MAX_PARALLEL)


RULES = (check_name, check_documents, check_distribution, check_control_plane, check_topology, check_workers, check_vm_network,
         check_cluster_network, check_load_balancer, check_ssh)


def validate_spec(spec):
    """Raise ValidationError on the first rule the normalised spec breaks."""
    for rule in RULES:
        rule(spec)
    check_static_capacity(spec)


def validate_change(old_spec, new_spec):
    """Rules about changing a cluster that exists."""
    if old_spec is None:
        return
    old, new = old_spec['control_plane']['replicas'], new_spec['control_plane']['replicas']
    if specs.stacked_etcd(new_spec) and old != new and (old % 2 == 0 or new % 2 == 0):
        fail('control_plane.replicas', 'change the control plane between odd counts only (from {0} to {1} is not); '
                                       'etcd keeps quorum only with an odd member count'.format(old, new))
    if old_spec['network']['vm_network']['ip_allocation'] != new_spec['network']['vm_network']['ip_allocation']:
        fail('network.vm_network.ip_allocation', 'cannot change from {0} to {1} on an existing cluster; the nodes keep '
                                                 'their addresses. Recreate the cluster to change it'.format(
                                                     old_spec['network']['vm_network']['ip_allocation'],
                                                     new_spec['network']['vm_network']['ip_allocation']))


def validate_environment(spec, env, taken_ips=()):
    """Rules that need Proxmox and the registry: quorum, and room in the static range."""
    if not env.quorate:
        fail('api_url', 'the Proxmox cluster has lost quorum, so it refuses every change; restore quorum (pvecm status) '
                        'and run again')
    if not env.online_nodes():
        fail('api_url', 'no Proxmox node is online; bring one online and run again')
    check_static_capacity(spec, taken_ips)
