"""The normalised spec: the seed's defaults fill every gap."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.planner import spec as specs

pytestmark = pytest.mark.k8s_vm


def test_defaults_from_the_seed_configuration():
    spec = specs.normalise({'name': 'demo'})
    assert spec['distribution'] == {'type': 'kubeadm', 'version': None, 'config': {}}
    assert spec['kubernetes_version'] == '1.37.2'
    assert spec['control_plane']['replicas'] == 3
    assert spec['control_plane']['resources'] == {'cores': 2, 'memory': 4096, 'disk_size': 50, 'sockets': 1,
                                                  'cpu_type': None, 'numa': False}
    assert spec['control_plane']['template'] == 'ubuntu-22.04-k8s'
    assert [(p['name'], p['replicas'], p['resources']['memory'], p['resources']['disk_size'], p['resources']['cores'])
            for p in spec['workers']] == [('workers', 3, 8192, 100, 4)]
    assert spec['network']['pod_cidr'] == '10.244.0.0/16'
    assert spec['network']['service_cidr'] == '10.96.0.0/12'
    assert spec['network']['dns_domain'] == 'cluster.local'
    assert spec['network']['cni']['type'] == 'cilium'
    assert spec['network']['vm_network']['bridge'] == 'vmbr0'
    assert spec['load_balancer']['type'] == 'haproxy'
    assert spec['load_balancer']['api_server_port'] == 6443
    assert spec['load_balancer']['resources']['memory'] == 2048
    assert spec['topology']['high_availability'] is True
    assert spec['control_plane']['placement']['anti_affinity'] is True


def test_an_empty_worker_list_means_no_workers():
    assert specs.normalise({'name': 'demo', 'workers': []})['workers'] == []


def test_partial_resources_keep_the_role_defaults():
    spec = specs.normalise({'name': 'x', 'workers': [{'name': 'w', 'resources': {'memory': 1024}}]})
    assert spec['workers'][0]['resources']['cores'] == 4
    assert spec['workers'][0]['resources']['memory'] == 1024


def test_pools_and_the_load_balancer_default_to_the_control_plane_template():
    spec = specs.normalise({'name': 'x', 'control_plane': {'template': 'tpl'}, 'workers': [{'name': 'w'}]})
    assert spec['workers'][0]['template'] == 'tpl'
    assert spec['load_balancer']['template'] == 'tpl'


def test_bridge_default_comes_from_the_caller():
    assert specs.normalise({'name': 'x'}, default_bridge='vmbr9')['network']['vm_network']['bridge'] == 'vmbr9'


def test_single_control_plane_is_not_ha_and_distribution_drives_the_version():
    spec = specs.normalise({'name': 'x', 'control_plane': {'replicas': 1}, 'distribution': {'type': 'k3s'}})
    assert spec['topology']['high_availability'] is False
    assert spec['kubernetes_version'] == '1.37.2'


def test_normalising_twice_changes_nothing():
    once = specs.normalise({'name': 'x', 'workers': [{'name': 'a', 'taints': [{'key': 'k'}]}]})
    assert specs.normalise(once) == once
