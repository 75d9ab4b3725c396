# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the registry returns: plain dataclasses, one per entity.

Timestamps are timezone-aware UTC ``datetime`` objects on both backends; ``as_dict()``
renders them as ISO 8601 strings so a module can return the record as-is.
``resource_version`` is the compare-and-swap token of a mutable row: pass the value you
read as ``expected_version`` when you write, and the write fails with ``Conflict`` if the
row changed in between.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Dict, List, Optional


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Record):
        return value.as_dict()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


class Record:
    """Shared behaviour: a JSON-safe dict view."""

    def as_dict(self) -> Dict[str, Any]:
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}


@dataclasses.dataclass
class Status(Record):
    """Observed state of a cluster. ``phase`` changes only through lifecycle.transition."""

    phase: str
    message: Optional[str] = None
    endpoint: Optional[str] = None
    version: Optional[str] = None
    node_count: int = 0
    ready_nodes: int = 0
    pod_count: int = 0
    conditions: List[Any] = dataclasses.field(default_factory=list)
    resources: Dict[str, Any] = dataclasses.field(default_factory=dict)
    last_heartbeat: Optional[datetime.datetime] = None
    ready_at: Optional[datetime.datetime] = None
    updated_at: Optional[datetime.datetime] = None
    resource_version: int = 1


@dataclasses.dataclass
class Cluster(Record):
    """A registered cluster: metadata, its type-specific spec and its status.

    ``resource_version`` covers metadata and spec (the desired state); the status has its own.
    """

    id: str
    name: str
    type: str
    provider: Optional[str]
    labels: Dict[str, str]
    annotations: Dict[str, str]
    spec: Dict[str, Any]
    status: Status
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: Optional[datetime.datetime]
    resource_version: int


@dataclasses.dataclass
class Node(Record):
    id: str
    cluster_id: str
    name: str
    role: str
    status: str
    vmid: Optional[str] = None
    pool_name: Optional[str] = None
    ip_address: Optional[str] = None
    labels: Dict[str, str] = dataclasses.field(default_factory=dict)
    taints: List[Any] = dataclasses.field(default_factory=list)
    resources: Dict[str, Any] = dataclasses.field(default_factory=dict)
    conditions: List[Any] = dataclasses.field(default_factory=list)
    created_at: Optional[datetime.datetime] = None
    updated_at: Optional[datetime.datetime] = None
    resource_version: int = 1


@dataclasses.dataclass
class Event(Record):
    id: str
    cluster_id: str
    type: str
    reason: Optional[str]
    message: Optional[str]
    metadata: Dict[str, Any]
    timestamp: datetime.datetime


@dataclasses.dataclass
class CredentialInfo(Record):
    """A stored credential without its secret: safe to list and return."""

    id: str
    cluster_id: str
    type: str
    key_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    expires_at: Optional[datetime.datetime]
    last_used_at: Optional[datetime.datetime]
    resource_version: int


@dataclasses.dataclass
class Credential(Record):
    """A decrypted credential. ``data`` is the secret: never log it, return it with no_log."""

    info: CredentialInfo
    data: bytes = dataclasses.field(repr=False)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def as_dict(self) -> Dict[str, Any]:
        """The metadata only; the secret stays out of dict views on purpose."""
        return self.info.as_dict()


@dataclasses.dataclass
class RotationReport(Record):
    """What a keyring rotation did: every credential now sits under ``key_id``."""

    key_id: str
    rewrapped: int
    already_current: int


@dataclasses.dataclass
class Backup(Record):
    id: str
    cluster_id: str
    type: str
    status: str
    storage_location: Optional[str]
    size_bytes: Optional[int]
    started_at: Optional[datetime.datetime]
    completed_at: Optional[datetime.datetime]
    expires_at: Optional[datetime.datetime]
    metadata: Dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    resource_version: int


@dataclasses.dataclass
class AuditEntry(Record):
    seq: int
    at: datetime.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    cluster_id: Optional[str]
    details: Dict[str, Any]


@dataclasses.dataclass
class AllocatedAddress(Record):
    """An IP address a live cluster's node holds (for IPAM)."""

    ip_address: str
    cluster_id: str
    cluster_name: str
    cluster_type: str
    node_name: str


@dataclasses.dataclass
class Snapshot(Record):
    """Clusters with their status and nodes, read in one consistent snapshot (inventory)."""

    clusters: List[Cluster]
    nodes: Dict[str, List[Node]]
