"""Invalid K8s-on-VM specs: (id, change to a valid spec, field named, words the message must hold).

Shared by the planner's unit tests and the module's integration table (which also checks
that nothing reached Proxmox or the registry). Each change is a function of a valid spec
(small_spec()) so the case shows exactly what is wrong.
"""

from __future__ import annotations


def _set(path, value):
    def change(spec):
        node = spec
        keys = path.split('.')
        for key in keys[:-1]:
            key = int(key) if key.isdigit() else key
            if isinstance(node, dict):
                node = node.setdefault(key, {})
            else:
                node = node[key]
        last = keys[-1]
        node[int(last) if last.isdigit() else last] = value
        return spec
    return change


def _drop(path):
    def change(spec):
        node = spec
        keys = path.split('.')
        for key in keys[:-1]:
            node = node[int(key) if key.isdigit() else key]
        node.pop(keys[-1], None)
        return spec
    return change


def _both(*changes):
    def change(spec):
        for one in changes:
            spec = one(spec)
        return spec
    return change


VM_NET = 'network.vm_network'

CASES = [
    ('no-name', _set('name', None), 'name', 'needs a name'),
    ('uppercase-name', _set('name', 'Demo'), 'name', 'DNS-1123'),
    ('underscore-name', _set('name', 'demo_1'), 'name', 'DNS-1123'),
    ('long-name', _set('name', 'a' * 64), 'name', 'DNS-1123'),
    ('vm-name-too-long', _set('name', 'a' * 55), 'workers[0].name', 'over the 63'),
    ('unknown-distribution', _set('distribution', {'type': 'okd'}), 'distribution.type', 'kubeadm'),
    ('malformed-version', _set('kubernetes_version', '1.37'), 'kubernetes_version', 'MAJOR.MINOR.PATCH'),
    ('out-of-support-version', _set('kubernetes_version', '1.30.14'), 'kubernetes_version', '1.35.0 to 1.37.x'),
    ('too-old-version', _set('kubernetes_version', '1.34.9'), 'kubernetes_version', '1.35.0 to 1.37.x'),
    ('too-new-version', _set('kubernetes_version', '1.38.0'), 'kubernetes_version', '1.35.0 to 1.37.x'),
    ('k3s-release-form', _set('distribution', {'type': 'k3s', 'version': '1.37.2'}), 'distribution.version',
     'v1.37.2+k3s1'),
    ('release-version-mismatch', _set('distribution', {'type': 'rke2', 'version': 'v1.36.3+rke2r1'}),
     'distribution.version', 'make them agree'),
    ('even-control-planes', _set('control_plane.replicas', 2), 'control_plane.replicas', 'odd count'),
    ('four-control-planes', _set('control_plane.replicas', 4), 'control_plane.replicas', 'odd count'),
    ('no-control-plane', _set('control_plane.replicas', 0), 'control_plane.replicas', 'at least 1'),
    ('ha-with-one-control-plane', _both(_set('control_plane.replicas', 1), _set('topology.high_availability', True)),
     'topology.high_availability', 'at least 3'),
    ('not-ha-with-three', _set('topology.high_availability', False), 'topology.high_availability', 'replicas to 1'),
    ('external-etcd-without-endpoints', _set('topology.external_etcd', {'endpoints': []}),
     'topology.external_etcd.endpoints', 'etcd members'),
    ('external-etcd-even-members',
     _set('topology.external_etcd', {'endpoints': ['https://10.0.0.21:2379', 'https://10.0.0.22:2379']}),
     'topology.external_etcd.endpoints', 'odd number of members'),
    ('external-etcd-bad-url', _set('topology.external_etcd', {'endpoints': ['10.0.0.1:2379']}),
     'topology.external_etcd.endpoints[0]', 'etcd client URL'),
    ('zero-cores', _set('control_plane.resources.cores', 0), 'control_plane.resources.cores', 'at least 1'),
    ('tiny-memory', _set('workers.0.resources.memory', 128), 'workers[0].resources.memory', 'at least 512'),
    ('zero-disk', _set('workers.1.additional_disks', [{'size': 0}]), 'workers[1].additional_disks[0].size',
     'at least 1'),
    ('pool-without-name', _set('workers.0.name', None), 'workers[0].name', 'needs a name'),
    ('pool-name-not-dns', _set('workers.0.name', 'GPU_pool'), 'workers[0].name', 'DNS-1123'),
    ('pool-named-cp', _set('workers.0.name', 'cp'), 'workers[0].name', 'reserved'),
    ('duplicate-pools', _set('workers.1.name', 'general'), 'workers[1].name', 'unique'),
    ('negative-replicas', _set('workers.0.replicas', -1), 'workers[0].replicas', 'at least 0'),
    ('replicas-above-max', _set('workers.0.max_replicas', 1), 'workers[0].replicas', 'above max_replicas'),
    ('replicas-below-min', _set('workers.0.min_replicas', 3), 'workers[0].replicas', 'below min_replicas'),
    ('bad-taint-effect', _set('workers.0.taints', [{'key': 'gpu', 'effect': 'Never'}]), 'workers[0].taints[0].effect',
     'NoSchedule'),
    ('taint-without-key', _set('control_plane.taints', [{'value': 'x'}]), 'control_plane.taints[0].key', 'key'),
    ('bad-label', _set('workers.1.labels', {'-bad': 'x'}), 'workers[1].labels', 'label key'),
    ('bad-pod-cidr', _set('network.pod_cidr', '10.244.0.0/33'), 'network.pod_cidr', 'CIDR'),
    ('pod-cidr-host-bits', _set('network.pod_cidr', '10.244.1.0/16'), 'network.pod_cidr', 'host bits'),
    ('overlapping-cidrs', _set('network.service_cidr', '10.244.128.0/20'), 'network.service_cidr', 'overlaps'),
    ('pods-overlap-vms', _set('network.pod_cidr', '10.20.0.0/16'), 'network.pod_cidr', 'overlaps the VM network'),
    ('services-overlap-vms', _set('network.service_cidr', '10.20.0.0/24'), 'network.service_cidr',
     'overlaps the VM network'),
    ('bad-dns-domain', _set('network.dns_domain', 'Cluster_Local'), 'network.dns_domain', 'DNS domain'),
    ('unknown-cni', _set('network.cni', {'type': 'canal'}), 'network.cni.type', 'cilium'),
    ('bad-bridge', _set(VM_NET + '.bridge', 'vm bridge'), VM_NET + '.bridge', 'bridge name'),
    ('bad-vlan', _set(VM_NET + '.vlan', 5000), VM_NET + '.vlan', '1 to 4094'),
    ('unknown-ip-allocation', _set(VM_NET + '.ip_allocation', 'manual'), VM_NET + '.ip_allocation', 'dhcp'),
    ('static-without-range', _drop(VM_NET + '.ip_range'), VM_NET + '.ip_range', 'ip_range.start'),
    ('static-without-prefix', _drop(VM_NET + '.prefix'), VM_NET + '.prefix', 'prefix length'),
    ('range-reversed', _set(VM_NET + '.ip_range', {'start': '10.20.0.40', 'end': '10.20.0.10'}), VM_NET + '.ip_range',
     'swap'),
    ('range-across-subnets', _set(VM_NET + '.ip_range', {'start': '10.20.0.10', 'end': '10.20.1.10'}),
     VM_NET + '.ip_range', 'one /24 subnet'),
    ('bad-range-address', _set(VM_NET + '.ip_range', {'start': '10.20.0.300', 'end': '10.20.0.40'}),
     VM_NET + '.ip_range.start', 'IPv4 address'),
    ('gateway-outside', _set(VM_NET + '.gateway', '10.30.0.1'), VM_NET + '.gateway', 'outside the VM subnet'),
    ('bad-dns-server', _set(VM_NET + '.dns', ['dns.example']), VM_NET + '.dns[0]', 'IPv4 address'),
    ('range-with-dhcp', _set(VM_NET + '.ip_allocation', 'dhcp'), VM_NET + '.ip_range', 'only used with'),
    ('range-too-small', _set(VM_NET + '.ip_range', {'start': '10.20.0.10', 'end': '10.20.0.14'}),
     VM_NET + '.ip_range', 'needs 7'),
    ('unknown-lb', _set('load_balancer.type', 'nginx'), 'load_balancer.type', 'haproxy'),
    ('kube-vip-without-vip', _set('load_balancer', {'type': 'kube-vip'}), 'load_balancer.virtual_ip',
     'announces a virtual IP'),
    ('external-without-address', _set('load_balancer', {'type': 'external'}), 'load_balancer.external_address',
     'forwards to the API'),
    ('vip-outside-subnet', _set('load_balancer.virtual_ip', '10.30.0.5'), 'load_balancer.virtual_ip',
     'outside the VM subnet'),
    ('vip-in-node-range', _set('load_balancer.virtual_ip', '10.20.0.20'), 'load_balancer.virtual_ip',
     'inside the node range'),
    ('vip-is-gateway', _set('load_balancer.virtual_ip', '10.20.0.1'), 'load_balancer.virtual_ip', 'the gateway'),
    ('vip-that-haproxy-does-not-announce', _set('load_balancer', {'type': 'haproxy', 'virtual_ip': '10.20.0.5'}),
     'load_balancer.virtual_ip', 'announces no virtual IP'),
    ('vip-is-dns-server', _set('load_balancer.virtual_ip', '10.20.0.2'), 'load_balancer.virtual_ip', 'a DNS server'),
    ('vip-is-subnet-address', _set('load_balancer.virtual_ip', '10.20.0.0'), 'load_balancer.virtual_ip',
     'network address'),
    ('vip-is-broadcast', _set('load_balancer.virtual_ip', '10.20.0.255'), 'load_balancer.virtual_ip',
     'broadcast address'),
    ('bad-port', _set('load_balancer.api_server_port', 70000), 'load_balancer.api_server_port', '1 to 65535'),
    ('bad-ssh-user', _set('ssh.user', 'Admin User'), 'ssh.user', 'Linux user name'),
    ('private-key-pasted', _set('ssh.public_keys', ['-----BEGIN OPENSSH PRIVATE KEY-----']), 'ssh.public_keys[0]',
     'not the private key'),
]
