# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host and group names of the inventory.

Group names keep only letters, digits and underscores (what Ansible accepts without a
warning): ``k8s-vm`` becomes ``k8s_vm``, cluster ``prod-eu1`` gives ``prod_eu1_workers``.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
CLUSTER_HOST_PREFIX = "cluster_"


def safe(word):
    """word with every character Ansible would warn about in a group name replaced by '_'."""
    return _UNSAFE.sub("_", str(word))


def cluster_host(cluster_name):
    return CLUSTER_HOST_PREFIX + cluster_name


def type_group(cluster_type):
    return "gpve_type_" + safe(cluster_type)


def phase_group(phase):
    return "gpve_phase_" + safe(phase).lower()


def cluster_group(cluster_name):
    return "gpve_cluster_" + safe(cluster_name)


def control_plane_group(cluster_name):
    return safe(cluster_name) + "_control_plane"


def workers_group(cluster_name):
    return safe(cluster_name) + "_workers"


def pool_group(cluster_name, pool):
    return safe(cluster_name) + "_pool_" + safe(pool)


def lb_group(cluster_name):
    return safe(cluster_name) + "_lb"
