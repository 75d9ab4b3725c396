"""Versions (seed appendix A as data) and the names and tags of a cluster's VMs."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.planner import naming, versions

pytestmark = pytest.mark.k8s_vm


@pytest.mark.parametrize('distribution', ['kubeadm', 'k3s', 'k0s', 'rke2', 'talos'])
def test_supported_range_is_appendix_a(distribution):
    assert versions.is_supported(distribution, '1.26.0')
    assert versions.is_supported(distribution, '1.29.0')
    assert versions.is_supported(distribution, 'v1.30.14')
    assert not versions.is_supported(distribution, '1.25.16')
    assert not versions.is_supported(distribution, '1.31.0')
    assert versions.default_version(distribution) == '1.29.0'


@pytest.mark.parametrize('text', ['1.29', 'latest', '1.29.0-rc1', ''])
def test_malformed_versions_do_not_parse(text):
    assert versions.parse(text) is None
    assert not versions.is_supported('kubeadm', text)


@pytest.mark.parametrize('distribution,release,inside', [
    ('k3s', 'v1.29.3+k3s1', '1.29.3'), ('rke2', 'v1.28.9+rke2r1', '1.28.9'), ('k0s', 'v1.29.1+k0s.0', '1.29.1'),
    ('kubeadm', '1.29.0', '1.29.0'), ('talos', 'v1.7.4', None),
])
def test_release_names_carry_their_kubernetes_version(distribution, release, inside):
    assert versions.release_kubernetes_version(distribution, release) == inside


def test_a_release_spelled_for_another_distribution_is_refused():
    with pytest.raises(ValueError):
        versions.release_kubernetes_version('k3s', 'v1.29.0+rke2r1')


def test_vm_names_follow_the_issue():
    assert naming.control_plane_name('prod', 2) == 'prod-cp-2'
    assert naming.worker_name('prod', 'gpu', 10) == 'prod-gpu-10'
    assert naming.lb_name('prod') == 'prod-lb'


def test_tags_name_cluster_role_and_pool():
    assert naming.vm_tags('Abc-1', 'worker', 'gpu') == ['gpve-cluster-abc-1', 'gpve-pool-gpu', 'gpve-role-worker']
    assert naming.vm_tags('abc', 'control-plane', None) == ['gpve-cluster-abc', 'gpve-role-control-plane']


@pytest.mark.parametrize('name,ok', [('a', True), ('prod-eu1', True), ('a' * 63, True), ('a' * 64, False),
                                     ('Prod', False), ('-a', False), ('a-', False), ('a_b', False), ('', False)])
def test_dns1123_labels(name, ok):
    assert naming.is_dns1123_label(name) is ok


def test_description_round_trip():
    text = naming.description('id-1', 'demo', 'worker', 'cafe')
    assert naming.description_field(text, naming.DESCRIPTION_MARKER) == 'id-1'
    assert naming.description_field(text, 'gpve-spec') == 'cafe'
    assert naming.description_field('hand written', 'gpve-spec') is None
