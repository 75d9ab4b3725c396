# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the module asks for, checked before anything is read or written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils.backup.filters import EVERYTHING, Filters
from ansible_collections.gpve.cluster.plugins.module_utils.backup.restorer import POLICIES
from ansible_collections.gpve.cluster.plugins.module_utils.backup.retention import DEFAULT_RETENTION_HOURS
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

STATES = ("present", "restored", "absent")
TYPES = ("full", "etcd", "resources")
MAX_RETENTION_HOURS = 10 * 365 * 24
RESOURCE_PATTERN = re.compile(r"^[a-z0-9*?]([-a-z0-9.*?]{0,251}[a-z0-9*?])?$")
ETCD_RESTORE_REQUIRED = ("data_dir", "name", "initial_cluster", "initial_advertise_peer_urls")


@dataclass
class BackupRequest:
    state: str = "present"
    cluster: Optional[str] = None
    backup_id: Optional[str] = None
    type: Optional[str] = None
    filters: Filters = field(default_factory=Filters)
    existing_resource_policy: str = "none"
    namespace_mapping: dict = field(default_factory=dict)
    storage: dict = field(default_factory=dict)
    retention_hours: int = DEFAULT_RETENTION_HOURS
    prune: bool = False
    etcd: Optional[dict] = None
    etcd_snapshot: Optional[str] = None
    etcd_restore: Optional[dict] = None
    check_mode: bool = False

    def validate(self):
        _choice("state", self.state, STATES)
        if self.type is not None:
            _choice("type", self.type, TYPES)
        _choice("existing_resource_policy", self.existing_resource_policy, POLICIES)
        if self.state == "present" and not self.cluster:
            raise ValidationError("cluster", "the cluster to back up (name or id) is required with state=present")
        if self.state == "restored" and not self.backup_id:
            raise ValidationError("backup_id", "the backup to restore is required with state=restored")
        if self.state == "absent" and not (self.backup_id or self.prune):
            raise ValidationError("backup_id", "give the backup to delete, or prune=true to delete the expired ones")
        if self.etcd is not None and not (self.etcd.get("endpoints") or []):
            raise ValidationError("etcd.endpoints", "at least one etcd client URL is required")
        if self.etcd_restore is not None:
            for key in ETCD_RESTORE_REQUIRED:
                if not self.etcd_restore.get(key):
                    raise ValidationError(f"etcd_restore.{key}", "is required to restore a snapshot into a data dir")
        self._validate_mapping()
        self._validate_names()
        return self

    def _validate_names(self):
        """Names and numbers as Kubernetes and the registry define them: no path, no shell, no unbounded value."""
        if self.cluster is not None and not (isinstance(self.cluster, str) and checks.DNS1123_LABEL.match(self.cluster)):
            checks.registry_id(self.cluster, "cluster")
        if self.backup_id is not None:
            checks.registry_id(self.backup_id, "backup_id")
        for name in ("include_namespaces", "exclude_namespaces"):
            for index, pattern in enumerate(getattr(self.filters, name)):
                if pattern != EVERYTHING:
                    _namespace_pattern(pattern, f"{name}[{index}]")
        for name in ("include_resources", "exclude_resources"):
            for index, pattern in enumerate(getattr(self.filters, name)):
                if not RESOURCE_PATTERN.match(pattern):
                    raise ValidationError(f"{name}[{index}]", f"{checks.shown(pattern)} is not a resource name "
                                                              "(deployments, deployments.apps, a glob of one)")
        checks.whole(self.retention_hours, "retention_hours", 0, MAX_RETENTION_HOURS)
        for index, endpoint in enumerate((self.etcd or {}).get("endpoints") or []):
            checks.url(endpoint, f"etcd.endpoints[{index}]")
        if (self.storage or {}).get("type", "local") == "local" and self.storage.get("path") and self.state != "absent":
            checks.writable_directory(self.storage["path"], "storage.path")
        endpoint_url = (self.storage or {}).get("endpoint_url")
        if endpoint_url:
            checks.url(endpoint_url, "storage.endpoint_url")
        for key in ("bucket", "prefix"):
            value = (self.storage or {}).get(key)
            if value and (".." in value.split("/") or value.startswith("/") or not value.isprintable()):
                raise ValidationError(f"storage.{key}", f"{checks.shown(value)} must be a relative key without \"..\"")

    def _validate_mapping(self):
        targets = list(self.namespace_mapping.values())
        for source, target in self.namespace_mapping.items():
            if not source or not target:
                raise ValidationError("namespace_mapping", "maps a backed-up namespace to a target namespace, both non-empty")
            checks.namespace(source, "namespace_mapping")
            checks.namespace(target, f"namespace_mapping.{source}")
        if len(set(targets)) != len(targets):
            raise ValidationError("namespace_mapping", "two namespaces are mapped onto the same target")


def _namespace_pattern(pattern, field):
    """A namespace name, or a glob of one (team-*): the name rule with * and ? allowed."""
    plain = pattern.replace("*", "a").replace("?", "a")
    if not isinstance(pattern, str) or len(pattern) > checks.MAX_LABEL or not checks.DNS1123_LABEL.match(plain):
        raise ValidationError(field, f"{checks.shown(pattern)} is not a namespace name or a glob of one (a DNS-1123 label: "
                                     "lower-case letters, digits and \"-\", with * and ? as wildcards)")


def _choice(name, value, choices):
    if value not in choices:
        raise ValidationError(name, f"must be one of {', '.join(choices)}, not {value!r}")
