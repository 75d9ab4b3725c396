# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the playbook support modules."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError


class ClusterNotFound(GpveError):
    """No live cluster of that name in the registry."""

    def __init__(self, name):
        self.name = name
        super().__init__('no cluster named {0!r} in the registry; create it first (playbooks/k8s_vm/create.yml)'.format(name))


class UpgradeRefused(ValidationError):
    """The requested upgrade breaks the version skew policy or leaves the supported range."""


class RecordError(GpveError):
    """The guest step record file cannot be written."""


class TokenError(GpveError):
    """A bootstrap token could not be made through the Kubernetes API."""
