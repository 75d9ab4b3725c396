"""The roles, the modules' docs and the user docs name the versions of planner/versions.py's table."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from ansible_collections.gpve.cluster.plugins.module_utils.planner import versions

pytestmark = pytest.mark.k8s_vm

ROOT = pathlib.Path(__file__).resolve().parents[5]
DEFAULT = versions.default_version()

# role: {option: the value the table gives it}
ROLE_VERSIONS = {
    'kubeadm': {'kubeadm_kubernetes_version': DEFAULT},
    'talos': {'talos_kubernetes_version': DEFAULT},
    'loadbalancer': {'loadbalancer_kubernetes_version': DEFAULT},
    'k3s': {'k3s_version': versions.release_example('k3s', DEFAULT)},
    'k0s': {'k0s_version': versions.release_example('k0s', DEFAULT)},
    'rke2': {'rke2_version': versions.release_example('rke2', DEFAULT)},
    'node_prep': {'node_prep_containerd_sandbox_image': versions.PAUSE_IMAGE},
}


def _yaml(path):
    return yaml.safe_load((ROOT / path).read_text())


@pytest.mark.parametrize('role', sorted(ROLE_VERSIONS))
def test_role_defaults_argument_specs_and_docs_name_the_default_version(role):
    defaults = _yaml(f'roles/{role}/defaults/main.yml')
    options = _yaml(f'roles/{role}/meta/argument_specs.yml')['argument_specs']['main']['options']
    page = (ROOT / f'docs/roles/{role}.md').read_text()
    for option, value in ROLE_VERSIONS[role].items():
        assert str(defaults[option]) == value
        assert str(options[option]['default']) == value
        assert re.search(rf'\| `{option}` \| str \| `{re.escape(value)}` \|', page), (role, option)


def test_the_kubeadm_role_takes_the_tables_minors_and_config_api():
    role_vars = _yaml('roles/kubeadm/vars/main.yml')
    assert role_vars['kubeadm_supported_minors'] == versions.supported_minors()
    apis = {versions.kubeadm_config_api(minor + '.0') for minor in versions.supported_minors()}
    assert {role_vars['kubeadm_config_api']} == apis
    for template in ('kubeadm-init.yaml.j2', 'kubeadm-join.yaml.j2', 'kubeadm-upgrade.yaml.j2'):
        assert 'apiVersion: {{ kubeadm_config_api }}' in (ROOT / 'roles/kubeadm/templates' / template).read_text()


@pytest.mark.parametrize('path', ['docs/gpve_k8s_vm.md', 'docs/gpve_vcluster.md', 'docs/playbooks.md',
                                  'plugins/modules/gpve_k8s_vm.py', 'plugins/modules/gpve_vcluster.py'])
def test_pages_name_the_supported_window_and_no_version_outside_it(path):
    text = (ROOT / path).read_text()
    window = versions.supported_window().split(' to ')
    assert window[0] in text and window[1] in text, path
    # A Kubernetes release below the window (1.2x, 1.30 to 1.34) is named nowhere on these pages.
    assert not re.findall(r'(?<![\d.])v?1\.(2\d|3[0-4])\.(\d+|x)\b', text), path
