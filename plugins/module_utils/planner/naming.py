# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names and tags of a cluster's VMs.

VM names double as guest host names (PVE's cloud-init uses the VM name), so they are
DNS-1123 labels: <cluster>-cp-<n>, <cluster>-<pool>-<n>, <cluster>-lb, n from 1.
Tags let a run find every VM of a cluster with one bulk read, even VMs the registry
lost track of.
"""

from __future__ import annotations

import re

ROLE_CONTROL_PLANE = 'control-plane'
ROLE_WORKER = 'worker'
ROLE_LB = 'lb'
ROLES = (ROLE_CONTROL_PLANE, ROLE_WORKER, ROLE_LB)

# Pool names the control plane and load balancer names already use.
RESERVED_POOL_NAMES = ('cp', 'lb')
DNS1123_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
MAX_LABEL = 63

TAG_PREFIX = 'gpve-'
DESCRIPTION_MARKER = 'gpve-cluster-id:'


def is_dns1123_label(name):
    return isinstance(name, str) and len(name) <= MAX_LABEL and bool(DNS1123_LABEL.match(name))


def control_plane_name(cluster, index):
    return '{0}-cp-{1}'.format(cluster, index)


def worker_name(cluster, pool, index):
    return '{0}-{1}-{2}'.format(cluster, pool, index)


def lb_name(cluster):
    return '{0}-lb'.format(cluster)


def vm_name(cluster, role, pool, index):
    if role == ROLE_CONTROL_PLANE:
        return control_plane_name(cluster, index)
    if role == ROLE_LB:
        return lb_name(cluster)
    return worker_name(cluster, pool, index)


def cluster_tag(cluster_id):
    return 'gpve-cluster-{0}'.format(cluster_id).lower()


def role_tag(role):
    return 'gpve-role-{0}'.format(role)


def pool_tag(pool):
    return 'gpve-pool-{0}'.format(pool)


def vm_tags(cluster_id, role, pool):
    tags = [cluster_tag(cluster_id), role_tag(role)]
    if pool:
        tags.append(pool_tag(pool))
    return sorted(tags)


def tag_value(tags, prefix):
    """The rest of the first tag starting with prefix ('gpve-role-'), or None."""
    for tag in tags:
        if tag.startswith(prefix):
            return tag[len(prefix):]
    return None


def description(cluster_id, cluster_name, role, spec_hash=None):
    """The VM description: who owns the VM (read back when a run was killed before the tags were set)."""
    lines = ['Managed by gpve.cluster: do not edit by hand.',
             '{0} {1}'.format(DESCRIPTION_MARKER, cluster_id),
             'cluster: {0}'.format(cluster_name),
             'role: {0}'.format(role)]
    if spec_hash:
        lines.append('gpve-spec: {0}'.format(spec_hash))
    return '\n'.join(lines)


def description_field(text, field):
    """A 'field: value' line of a description written by description(), or None."""
    for line in str(text or '').splitlines():
        key, sep, value = line.partition(':')
        if sep and key.strip() == field.rstrip(':'):
            return value.strip()
    return None
