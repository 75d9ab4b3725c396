# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""May this cluster go to that version, and in which order do its nodes go.

Kubernetes' version skew policy: one minor version at a time, never down, and only to a
version the distribution supports here (planner.versions). Order: the first control
plane (``kubeadm upgrade apply``), the other control planes one by one (``kubeadm upgrade
node``), then the workers in batches of max_unavailable. Everything is decided before the
playbook touches a node; a refusal names the version to go through instead.
"""

from __future__ import annotations

import math

from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils.planner import versions
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import cluster_view
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support.errors import UpgradeRefused
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

UPGRADABLE_PHASES = ('Running', 'Upgrading', 'Failed', 'Recovering')
# The largest count of workers upgraded at once that max_unavailable may name.
MAX_BATCH = 10000


def _parsed(field, version):
    parsed = versions.parse(version)
    if parsed is None:
        raise UpgradeRefused(field, '{0!r} is not a MAJOR.MINOR.PATCH version'.format(version))
    return parsed


def check_skew(current, target):
    """Raises UpgradeRefused unless target is current or at most one minor version above it."""
    now, wanted = _parsed('current version', current), _parsed('target_version', target)
    if wanted < now:
        raise UpgradeRefused('target_version', 'downgrades are not supported ({0} is below the running {1})'.format(
            target, current))
    if wanted[0] != now[0]:
        raise UpgradeRefused('target_version', 'a major version change ({0} to {1}) is not supported'.format(current, target))
    if wanted[1] - now[1] > 1:
        raise UpgradeRefused('target_version', 'Kubernetes upgrades go one minor version at a time: from {0} upgrade '
                                               'to {1}.{2}.x first, then on to {3}'.format(current, now[0], now[1] + 1, target))


def check_supported(distribution, target):
    if not versions.is_supported(distribution, target):
        raise UpgradeRefused('target_version', '{0} {1} is not supported; supported: {2}'.format(
            distribution, target, versions.supported_range(distribution)))


def release_for(distribution, target, release=None):
    """The distribution's own release name for the target (k3s v1.37.2+k3s1, ...)."""
    if not release:
        return versions.release_example(distribution, target) if distribution != 'talos' else None
    try:
        inside = versions.release_kubernetes_version(distribution, release)
    except ValueError:
        raise UpgradeRefused('target_release', '{0!r} is not a {1} release (like {2})'.format(
            release, distribution, versions.release_example(distribution, target))) from None
    if inside is not None and versions.parse(inside) != versions.parse(target):
        raise UpgradeRefused('target_release', 'release {0} carries Kubernetes {1}, not the target {2}'.format(
            release, inside, target))
    return release


def batch_size(max_unavailable, worker_count):
    """max_unavailable as a count: an int, or a percentage of the workers ('25%'), at least 1."""
    text = str(max_unavailable).strip()
    if text.endswith('%'):
        try:
            share = float(text[:-1])
        except ValueError:
            raise UpgradeRefused('max_unavailable', '{0!r} is not a count or a percentage'.format(max_unavailable)) from None
        if not 0 < share <= 100:
            raise UpgradeRefused('max_unavailable', 'a percentage between 1% and 100%, not {0}'.format(text))
        return max(1, int(math.ceil(worker_count * share / 100.0)))
    try:
        count = int(text)
    except ValueError:
        raise UpgradeRefused('max_unavailable', '{0!r} is not a count or a percentage'.format(max_unavailable)) from None
    if not 1 <= count <= MAX_BATCH:
        raise UpgradeRefused('max_unavailable', 'a count from 1 to {0}, not {1}'.format(MAX_BATCH, count))
    return count


def check(name, target_version, max_unavailable):
    """The one validation pass over the request's own options, before the registry is read."""
    checks.cluster_name(name, 'name')
    _parsed('target_version', target_version)
    batch_size(max_unavailable, 0)


def batches(names, size):
    return [names[start:start + size] for start in range(0, len(names), size)]


def plan(store, name, target_version, target_release=None, max_unavailable=1):
    """The upgrade of the cluster called name, or UpgradeRefused before anything is touched."""
    check(name, target_version, max_unavailable)
    view = cluster_view.read(store, name)
    cluster, spec = view['cluster'], view['spec']
    if cluster['type'] != kinds.K8S_VM:
        raise UpgradeRefused('name', '{0} is a {1} cluster; this upgrade is for K8s-on-VM clusters'.format(name, cluster['type']))
    if cluster['phase'] not in UPGRADABLE_PHASES:
        raise UpgradeRefused('name', 'cluster {0} is {1}; upgrade a Running cluster (or resume a failed upgrade)'.format(
            name, cluster['phase']))
    distribution = spec['distribution']['type']
    current = spec['kubernetes_version']
    check_supported(distribution, target_version)
    check_skew(current, target_version)
    release = release_for(distribution, target_version, target_release)
    control_planes = [node['name'] for node in view['nodes'] if node['role'] == 'control-plane']
    workers = [node['name'] for node in view['nodes'] if node['role'] == 'worker']
    size = batch_size(max_unavailable, len(workers))
    return {
        'needed': versions.parse(current) != versions.parse(target_version),
        'cluster': cluster, 'distribution': distribution, 'from_version': current, 'to_version': target_version,
        'release': release, 'first_control_plane': control_planes[0] if control_planes else None,
        'control_planes': control_planes, 'workers': workers, 'batch_size': size,
        'worker_batches': batches(workers, size),
    }
