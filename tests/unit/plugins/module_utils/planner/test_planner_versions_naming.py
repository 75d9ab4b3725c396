"""Versions (the supported-minors table) and the names and tags of a cluster's VMs."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.planner import naming, versions

pytestmark = pytest.mark.k8s_vm


@pytest.mark.parametrize('distribution', ['kubeadm', 'k3s', 'k0s', 'rke2', 'talos'])
def test_every_distribution_creates_clusters_at_the_minors_upstream_supports(distribution):
    assert versions.is_supported(distribution, '1.35.0')
    assert versions.is_supported(distribution, '1.36.3')
    assert versions.is_supported(distribution, 'v1.37.2')
    assert versions.is_supported(distribution, '1.37.99')
    for out_of_support in ('1.26.0', '1.29.0', '1.30.14', '1.31.0', '1.34.9', '1.38.0', '2.37.0'):
        assert not versions.is_supported(distribution, out_of_support)
    assert versions.default_version(distribution) == '1.37.2'


def test_the_window_and_the_kubeadm_config_api_come_from_one_table():
    assert versions.supported_minors() == ['1.35', '1.36', '1.37']
    assert versions.supported_window() == '1.35.0 to 1.37.x'
    assert versions.SUPPORTED['k3s'] == {'minimum': '1.35.0', 'maximum': '1.37.x', 'default': '1.37.2'}
    assert {versions.kubeadm_config_api(minor + '.0') for minor in versions.supported_minors()} == {
        'kubeadm.k8s.io/v1beta4'}
    with pytest.raises(ValueError):
        versions.kubeadm_config_api('1.30.2')


def test_an_unknown_distribution_is_not_supported():
    assert not versions.is_supported('okd', '1.37.2')


@pytest.mark.parametrize('text', ['1.37', 'latest', '1.37.0-rc1', ''])
def test_malformed_versions_do_not_parse(text):
    assert versions.parse(text) is None
    assert not versions.is_supported('kubeadm', text)


@pytest.mark.parametrize('distribution,release,inside', [
    ('k3s', 'v1.37.2+k3s1', '1.37.2'), ('rke2', 'v1.36.3+rke2r1', '1.36.3'), ('k0s', 'v1.35.4+k0s.0', '1.35.4'),
    ('kubeadm', '1.37.2', '1.37.2'), ('talos', 'v1.7.4', None),
])
def test_release_names_carry_their_kubernetes_version(distribution, release, inside):
    assert versions.release_kubernetes_version(distribution, release) == inside


@pytest.mark.parametrize('distribution,release', [
    ('kubeadm', 'v1.37.2'), ('k3s', 'v1.37.2+k3s1'), ('k0s', 'v1.37.2+k0s.0'), ('rke2', 'v1.37.2+rke2r1'),
    ('talos', 'v1.7.0')])
def test_the_first_release_of_a_version_per_distribution(distribution, release):
    assert versions.release_example(distribution, '1.37.2') == release


def test_a_release_spelled_for_another_distribution_is_refused():
    with pytest.raises(ValueError):
        versions.release_kubernetes_version('k3s', 'v1.37.2+rke2r1')


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
