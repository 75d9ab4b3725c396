# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes versions each distribution supports (seed-design appendix A, kept as data).

The seed's table has no Talos row; Talos gets the same Kubernetes range as the others
until a release says otherwise. A maximum of "1.30.x" means every 1.30 patch release.
"""

from __future__ import annotations

import re

SUPPORTED = {
    'kubeadm': {'minimum': '1.26.0', 'maximum': '1.30.x', 'default': '1.29.0'},
    'k3s': {'minimum': '1.26.0', 'maximum': '1.30.x', 'default': '1.29.0'},
    'k0s': {'minimum': '1.26.0', 'maximum': '1.30.x', 'default': '1.29.0'},
    'rke2': {'minimum': '1.26.0', 'maximum': '1.30.x', 'default': '1.29.0'},
    'talos': {'minimum': '1.26.0', 'maximum': '1.30.x', 'default': '1.29.0'},
}

# How each distribution spells its own release: the Kubernetes version plus a suffix.
# Talos versions its OS separately (v1.7.4), so only the form is checked.
DISTRIBUTION_RELEASE = {
    'kubeadm': re.compile(r'^v?(?P<k8s>\d+\.\d+\.\d+)$'),
    'k3s': re.compile(r'^v?(?P<k8s>\d+\.\d+\.\d+)\+k3s\d+$'),
    'k0s': re.compile(r'^v?(?P<k8s>\d+\.\d+\.\d+)\+k0s\.\d+$'),
    'rke2': re.compile(r'^v?(?P<k8s>\d+\.\d+\.\d+)\+rke2r\d+$'),
    'talos': re.compile(r'^v?\d+\.\d+\.\d+$'),
}

VERSION = re.compile(r'^v?(\d+)\.(\d+)\.(\d+)$')


def parse(version):
    """(major, minor, patch) of '1.29.0' or 'v1.29.0'; None if it is not that form."""
    found = VERSION.match(str(version).strip())
    return tuple(int(part) for part in found.groups()) if found else None


def _bound(text):
    major, minor, patch = text.split('.')
    return int(major), int(minor), (10 ** 6 if patch == 'x' else int(patch))


def default_version(distribution):
    return SUPPORTED[distribution]['default']


def supported_range(distribution):
    """'1.26.0 to 1.30.x', for messages."""
    row = SUPPORTED[distribution]
    return '{0} to {1}'.format(row['minimum'], row['maximum'])


def is_supported(distribution, version):
    parsed = parse(version)
    row = SUPPORTED.get(distribution)
    if parsed is None or row is None:
        return False
    return _bound(row['minimum']) <= parsed <= _bound(row['maximum'])


def release_kubernetes_version(distribution, release):
    """The Kubernetes version inside a distribution release ('v1.29.0+k3s1' -> '1.29.0'), or None.

    Raises ValueError if release is not spelled the way the distribution spells it.
    """
    found = DISTRIBUTION_RELEASE[distribution].match(str(release).strip())
    if not found:
        raise ValueError(release)
    return found.groupdict().get('k8s')


def release_example(distribution, kubernetes_version):
    return {'kubeadm': 'v{0}', 'k3s': 'v{0}+k3s1', 'k0s': 'v{0}+k0s.0', 'rke2': 'v{0}+rke2r1',
            'talos': 'v1.7.0'}[distribution].format(kubernetes_version)
