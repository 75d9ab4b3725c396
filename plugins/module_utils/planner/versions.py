# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes versions gpve.cluster creates clusters at: one table, kept as data.

MINORS lists the minor releases upstream supports today, each with the kubeadm
configuration API its kubeadm reads (v1beta4 from 1.31 on; kubeadm 1.37 no longer reads
v1beta3). Validation (K8s-on-VM and vCluster), the upgrade policy, the roles' defaults
and argument specs, and the docs all follow it; tests/unit/.../test_versions_table.py
fails when a role or a page names another version. Every distribution creates clusters
in the same window; imported (external) clusters may run any version.
"""

from __future__ import annotations

import re

# minor -> what that minor needs. Oldest first.
MINORS = {
    '1.35': {'kubeadm_config_api': 'kubeadm.k8s.io/v1beta4'},
    '1.36': {'kubeadm_config_api': 'kubeadm.k8s.io/v1beta4'},
    '1.37': {'kubeadm_config_api': 'kubeadm.k8s.io/v1beta4'},
}
# The version a cluster gets when the spec names none (the newest the testbed runs).
DEFAULT = '1.37.2'
DISTRIBUTIONS = ('kubeadm', 'k3s', 'k0s', 'rke2', 'talos')
# containerd's sandbox image on kubeadm nodes (node_prep): the pause kubeadm of DEFAULT recommends (its
# cmd/kubeadm/app/constants PauseVersion, which `kubeadm config images list` names). A newer pause serves the older
# minors too; their kubeadm only warns that the sandbox image differs from its own.
PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.2'

# How each distribution spells its own release: the Kubernetes version plus a suffix.
# Talos versions its OS separately (v1.7.4), so only the form is checked. ASCII digits only: \d alone takes any
# script's digits, and 1.37.\u0662 would parse as 1.37.2.
DISTRIBUTION_RELEASE = {
    'kubeadm': re.compile(r'^v?(?P<k8s>\d+\.\d+\.\d+)$', re.ASCII),
    'k3s': re.compile(r'^v?(?P<k8s>\d+\.\d+\.\d+)\+k3s\d+$', re.ASCII),
    'k0s': re.compile(r'^v?(?P<k8s>\d+\.\d+\.\d+)\+k0s\.\d+$', re.ASCII),
    'rke2': re.compile(r'^v?(?P<k8s>\d+\.\d+\.\d+)\+rke2r\d+$', re.ASCII),
    'talos': re.compile(r'^v?\d+\.\d+\.\d+$', re.ASCII),
}
# The first release of a Kubernetes version, per distribution (k3s v1.37.2+k3s1).
RELEASE_FORMAT = {'kubeadm': 'v{0}', 'k3s': 'v{0}+k3s1', 'k0s': 'v{0}+k0s.0', 'rke2': 'v{0}+rke2r1'}
TALOS_RELEASE_EXAMPLE = 'v1.7.0'

VERSION = re.compile(r'^v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})$', re.ASCII)  # bounded: int() of a huge one raises


def _minor_tuple(minor):
    major, number = minor.split('.')
    return int(major), int(number)


OLDEST, NEWEST = min(MINORS, key=_minor_tuple), max(MINORS, key=_minor_tuple)
# Kept for callers that ask per distribution: every distribution has the same window.
SUPPORTED = {dist: {'minimum': OLDEST + '.0', 'maximum': NEWEST + '.x', 'default': DEFAULT} for dist in DISTRIBUTIONS}


def parse(version):
    """(major, minor, patch) of '1.37.2' or 'v1.37.2'; None if it is not that form."""
    found = VERSION.match(str(version).strip())
    return tuple(int(part) for part in found.groups()) if found else None


def minor_of(version):
    """'1.37' for '1.37.2' or 'v1.37.2'; None if it is not a MAJOR.MINOR.PATCH version."""
    parsed = parse(version)
    return '{0}.{1}'.format(*parsed[:2]) if parsed else None


def supported_minors():
    """The supported minors, oldest first: ['1.35', '1.36', '1.37']."""
    return sorted(MINORS, key=_minor_tuple)


def default_version(distribution=None):
    """The version a new cluster gets (the same for every distribution)."""
    return DEFAULT


def supported_window():
    """'1.35.0 to 1.37.x', for messages and docs."""
    return '{0}.0 to {1}.x'.format(OLDEST, NEWEST)


def supported_range(distribution=None):
    """The supported window for messages (every distribution has the same)."""
    return supported_window()


def is_supported(distribution, version):
    """True when a cluster of this distribution may be created at (or upgraded to) version."""
    if distribution is not None and distribution not in DISTRIBUTIONS:
        return False
    return minor_of(version) in MINORS


def unsupported_message(version):
    """Why a version is refused for a new cluster (or as an upgrade target): it names the supported window."""
    return ('{0} is outside the supported window {1} (the minors {2}, which upstream supports); choose a version in '
            'it, for example {3}'.format(version, supported_window(), ', '.join(supported_minors()), DEFAULT))


def kubeadm_config_api(version):
    """The kubeadm configuration API the kubeadm of this version reads (kubeadm.k8s.io/v1beta4)."""
    minor = minor_of(version)
    if minor not in MINORS:
        raise ValueError(version)
    return MINORS[minor]['kubeadm_config_api']


def release_kubernetes_version(distribution, release):
    """The Kubernetes version inside a distribution release ('v1.37.2+k3s1' -> '1.37.2'), or None.

    Raises ValueError if release is not spelled the way the distribution spells it.
    """
    found = DISTRIBUTION_RELEASE[distribution].match(str(release).strip())
    if not found:
        raise ValueError(release)
    return found.groupdict().get('k8s')


def release_example(distribution, kubernetes_version):
    """The distribution's first release of kubernetes_version (Talos: an example OS release)."""
    if distribution == 'talos':
        return TALOS_RELEASE_EXAMPLE
    return RELEASE_FORMAT[distribution].format(str(kubernetes_version).lstrip('v'))
