# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry schema per SQL dialect, as an ordered list of in-place migrations.

A new database runs every migration from 1; an older one runs those it lacks, each in the
same transaction as the ``schema_version`` row that records it.

- Version 1 is the seed design's data model (clusters, type-specific specs, status,
  credentials, nodes, events, backups, vm_templates, cluster_templates) in both dialects.
- Version 2 adds what the registry needs to be shared safely: a ``resource_version`` on
  every mutable row for compare-and-swap, cluster names unique among live clusters only
  (a soft-deleted cluster frees its name), one credential per (cluster, type) with the id
  of the key that encrypted it, and the audit log.
- Version 3 adds webhook subscribers and their delivery records (registry/webhooks.py uses them).

Never edit a released migration: append a new one.
"""

from __future__ import annotations

import collections

from ansible_collections.gpve.cluster.plugins.module_utils import crypto
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

# Columns holding JSON documents (TEXT in SQLite, JSONB in PostgreSQL) and timestamps
# (ISO 8601 TEXT in UTC in SQLite, TIMESTAMPTZ in PostgreSQL): backends convert by name.
JSON_COLUMNS = frozenset((
    "labels", "annotations", "control_plane", "networking", "storage", "resources", "sync_config", "plugins",
    "extra", "topology", "workers", "load_balancer", "addons", "security", "connection_config",
    "monitoring_config", "conditions", "taints", "metadata", "default_resources", "spec_template",
    "default_values", "details",
))
TIME_COLUMNS = frozenset((
    "created_at", "updated_at", "deleted_at", "last_heartbeat", "ready_at", "expires_at", "last_used_at",
    "started_at", "completed_at", "timestamp", "at", "applied_at",
))

# Type-specific spec tables: cluster type -> (table, scalar columns, JSON section columns).
# Spec keys outside these columns are kept in the table's ``extra`` document.
SPEC_TABLES = {
    kinds.VCLUSTER: ("vcluster_specs", ("kubernetes_version", "isolation_mode"),
                     ("control_plane", "networking", "storage", "resources", "sync_config", "plugins")),
    kinds.K8S_VM: ("k8s_vm_specs", ("distribution", "kubernetes_version"),
                   ("topology", "control_plane", "workers", "networking", "storage", "load_balancer", "addons", "security")),
    kinds.EXTERNAL: ("external_cluster_specs", ("endpoint",), ("connection_config", "monitoring_config")),
}
REQUIRED_SPEC_FIELDS = {
    kinds.VCLUSTER: ("kubernetes_version", "isolation_mode"),
    kinds.K8S_VM: ("distribution", "kubernetes_version"),
    kinds.EXTERNAL: ("endpoint",),
}

# Values the spec tables' CHECK constraints accept (validated before writing, too).
SPEC_CHOICES = {
    "distribution": ("kubeadm", "k3s", "k0s", "rke2", "talos"),
    "isolation_mode": ("namespace", "container", "microvm", "vm"),
}

Migration = collections.namedtuple("Migration", "version description steps")

# The cluster types the clusters table's CHECK constraint accepts, as SQL, put in place of _CLUSTER_TYPES below.
_CLUSTER_TYPES = "<cluster types>"
_CLUSTER_TYPES_SQL = ", ".join(f"'{name}'" for name in kinds.SCHEMA_CLUSTER_TYPES)

_V1_SQLITE = """
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
CREATE TABLE clusters (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL CHECK (type IN (<cluster types>)),
    provider TEXT,
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX idx_clusters_type ON clusters(type);
CREATE INDEX idx_clusters_deleted_at ON clusters(deleted_at);
CREATE TABLE vcluster_specs (
    cluster_id TEXT PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    kubernetes_version TEXT NOT NULL,
    isolation_mode TEXT NOT NULL CHECK (isolation_mode IN ('namespace', 'container', 'microvm', 'vm')),
    control_plane TEXT,
    networking TEXT,
    storage TEXT,
    resources TEXT,
    sync_config TEXT,
    plugins TEXT,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE k8s_vm_specs (
    cluster_id TEXT PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    distribution TEXT NOT NULL CHECK (distribution IN ('kubeadm', 'k3s', 'k0s', 'rke2', 'talos')),
    kubernetes_version TEXT NOT NULL,
    topology TEXT,
    control_plane TEXT,
    workers TEXT,
    networking TEXT,
    storage TEXT,
    load_balancer TEXT,
    addons TEXT,
    security TEXT,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE external_cluster_specs (
    cluster_id TEXT PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL,
    connection_config TEXT,
    monitoring_config TEXT,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE cluster_status (
    cluster_id TEXT PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    phase TEXT NOT NULL,
    message TEXT,
    endpoint TEXT,
    version TEXT,
    node_count INTEGER NOT NULL DEFAULT 0,
    ready_nodes INTEGER NOT NULL DEFAULT 0,
    pod_count INTEGER NOT NULL DEFAULT 0,
    conditions TEXT NOT NULL DEFAULT '[]',
    resources TEXT NOT NULL DEFAULT '{}',
    last_heartbeat TEXT,
    ready_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_cluster_status_phase ON cluster_status(phase);
CREATE TABLE cluster_credentials (
    id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    data_encrypted BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT
);
CREATE INDEX idx_credentials_cluster ON cluster_credentials(cluster_id);
CREATE TABLE cluster_nodes (
    id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    vmid TEXT,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    pool_name TEXT,
    ip_address TEXT,
    status TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    taints TEXT NOT NULL DEFAULT '[]',
    resources TEXT NOT NULL DEFAULT '{}',
    conditions TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (cluster_id, name)
);
CREATE INDEX idx_nodes_cluster ON cluster_nodes(cluster_id);
CREATE INDEX idx_nodes_role ON cluster_nodes(role);
CREATE INDEX idx_nodes_status ON cluster_nodes(status);
CREATE TABLE cluster_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    reason TEXT,
    message TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    timestamp TEXT NOT NULL
);
CREATE INDEX idx_events_cluster ON cluster_events(cluster_id, seq);
CREATE TABLE cluster_backups (
    id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    storage_location TEXT,
    size_bytes INTEGER,
    started_at TEXT,
    completed_at TEXT,
    expires_at TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_backups_cluster ON cluster_backups(cluster_id);
CREATE INDEX idx_backups_status ON cluster_backups(status);
CREATE TABLE vm_templates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    os_type TEXT NOT NULL,
    os_version TEXT,
    default_resources TEXT NOT NULL,
    cloud_init_template TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE cluster_templates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    description TEXT,
    spec_template TEXT NOT NULL,
    default_values TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
""".replace(_CLUSTER_TYPES, _CLUSTER_TYPES_SQL)

_V1_POSTGRESQL = """
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE TABLE clusters (
    id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(255) NOT NULL UNIQUE,
    type VARCHAR(32) NOT NULL,
    provider VARCHAR(64),
    labels JSONB NOT NULL DEFAULT '{}',
    annotations JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at TIMESTAMPTZ,
    CONSTRAINT valid_type CHECK (type IN (<cluster types>))
);
CREATE INDEX idx_clusters_type ON clusters(type);
CREATE INDEX idx_clusters_labels ON clusters USING GIN(labels);
CREATE INDEX idx_clusters_deleted_at ON clusters(deleted_at);
CREATE TABLE vcluster_specs (
    cluster_id VARCHAR(64) PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    kubernetes_version VARCHAR(32) NOT NULL,
    isolation_mode VARCHAR(32) NOT NULL,
    control_plane JSONB,
    networking JSONB,
    storage JSONB,
    resources JSONB,
    sync_config JSONB,
    plugins JSONB,
    extra JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT valid_isolation CHECK (isolation_mode IN ('namespace', 'container', 'microvm', 'vm'))
);
CREATE TABLE k8s_vm_specs (
    cluster_id VARCHAR(64) PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    distribution VARCHAR(32) NOT NULL,
    kubernetes_version VARCHAR(32) NOT NULL,
    topology JSONB,
    control_plane JSONB,
    workers JSONB,
    networking JSONB,
    storage JSONB,
    load_balancer JSONB,
    addons JSONB,
    security JSONB,
    extra JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT valid_distribution CHECK (distribution IN ('kubeadm', 'k3s', 'k0s', 'rke2', 'talos'))
);
CREATE TABLE external_cluster_specs (
    cluster_id VARCHAR(64) PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    endpoint VARCHAR(512) NOT NULL,
    connection_config JSONB,
    monitoring_config JSONB,
    extra JSONB NOT NULL DEFAULT '{}'
);
CREATE TABLE cluster_status (
    cluster_id VARCHAR(64) PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    phase VARCHAR(32) NOT NULL,
    message TEXT,
    endpoint VARCHAR(512),
    version VARCHAR(32),
    node_count INTEGER NOT NULL DEFAULT 0,
    ready_nodes INTEGER NOT NULL DEFAULT 0,
    pod_count INTEGER NOT NULL DEFAULT 0,
    conditions JSONB NOT NULL DEFAULT '[]',
    resources JSONB NOT NULL DEFAULT '{}',
    last_heartbeat TIMESTAMPTZ,
    ready_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_cluster_status_phase ON cluster_status(phase);
CREATE TABLE cluster_credentials (
    id VARCHAR(64) PRIMARY KEY,
    cluster_id VARCHAR(64) NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    type VARCHAR(32) NOT NULL,
    data_encrypted BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX idx_credentials_cluster ON cluster_credentials(cluster_id);
CREATE TABLE cluster_nodes (
    id VARCHAR(64) PRIMARY KEY,
    cluster_id VARCHAR(64) NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    vmid VARCHAR(32),
    name VARCHAR(255) NOT NULL,
    role VARCHAR(32) NOT NULL,
    pool_name VARCHAR(64),
    ip_address VARCHAR(45),
    status VARCHAR(32) NOT NULL,
    labels JSONB NOT NULL DEFAULT '{}',
    taints JSONB NOT NULL DEFAULT '[]',
    resources JSONB NOT NULL DEFAULT '{}',
    conditions JSONB NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    UNIQUE (cluster_id, name)
);
CREATE INDEX idx_nodes_cluster ON cluster_nodes(cluster_id);
CREATE INDEX idx_nodes_role ON cluster_nodes(role);
CREATE INDEX idx_nodes_status ON cluster_nodes(status);
CREATE TABLE cluster_events (
    seq BIGSERIAL PRIMARY KEY,
    id VARCHAR(64) NOT NULL UNIQUE,
    cluster_id VARCHAR(64) NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    type VARCHAR(32) NOT NULL,
    reason VARCHAR(64),
    message TEXT,
    metadata JSONB NOT NULL DEFAULT '{}',
    timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_events_cluster ON cluster_events(cluster_id, seq);
CREATE TABLE cluster_backups (
    id VARCHAR(64) PRIMARY KEY,
    cluster_id VARCHAR(64) NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    type VARCHAR(32) NOT NULL,
    status VARCHAR(32) NOT NULL,
    storage_location VARCHAR(512),
    size_bytes BIGINT,
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_backups_cluster ON cluster_backups(cluster_id);
CREATE INDEX idx_backups_status ON cluster_backups(status);
CREATE TABLE vm_templates (
    id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(255) NOT NULL UNIQUE,
    os_type VARCHAR(32) NOT NULL,
    os_version VARCHAR(32),
    default_resources JSONB NOT NULL,
    cloud_init_template TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE TABLE cluster_templates (
    id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(255) NOT NULL UNIQUE,
    type VARCHAR(32) NOT NULL,
    description TEXT,
    spec_template JSONB NOT NULL,
    default_values JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
)
""".replace(_CLUSTER_TYPES, _CLUSTER_TYPES_SQL)

_VERSIONED_TABLES = ("cluster_status", "cluster_credentials", "cluster_nodes", "cluster_backups",
                     "vm_templates", "cluster_templates")

# SQLite cannot drop a table-level UNIQUE: rebuild the table (foreign keys are off while
# migrating, so dependent rows stay), then index names among live clusters only.
_V2_SQLITE_CLUSTERS = """
CREATE TABLE clusters_v2 (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN (<cluster types>)),
    provider TEXT,
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    resource_version INTEGER NOT NULL DEFAULT 1
);
INSERT INTO clusters_v2 (id, name, type, provider, labels, annotations, created_at, updated_at, deleted_at)
    SELECT id, name, type, provider, labels, annotations, created_at, updated_at, deleted_at FROM clusters;
DROP TABLE clusters;
ALTER TABLE clusters_v2 RENAME TO clusters;
CREATE INDEX idx_clusters_type ON clusters(type);
CREATE INDEX idx_clusters_deleted_at ON clusters(deleted_at)
""".replace(_CLUSTER_TYPES, _CLUSTER_TYPES_SQL)

_V2_POSTGRESQL_CLUSTERS = """
ALTER TABLE clusters DROP CONSTRAINT clusters_name_key;
ALTER TABLE clusters ADD COLUMN resource_version INTEGER NOT NULL DEFAULT 1
"""

_V2_COMMON = """
CREATE UNIQUE INDEX uq_clusters_live_name ON clusters(name) WHERE deleted_at IS NULL;
CREATE INDEX idx_nodes_ip ON cluster_nodes(ip_address);
ALTER TABLE cluster_credentials ADD COLUMN key_id VARCHAR(64) NOT NULL DEFAULT ''
"""

_V2_AUDIT = {
    SQLITE: """
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    cluster_id TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_audit_cluster ON audit_log(cluster_id, seq)
""",
    POSTGRESQL: """
CREATE TABLE audit_log (
    seq BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    actor VARCHAR(255) NOT NULL,
    action VARCHAR(64) NOT NULL,
    entity VARCHAR(64) NOT NULL,
    entity_id VARCHAR(255) NOT NULL,
    cluster_id VARCHAR(64),
    details JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_audit_cluster ON audit_log(cluster_id, seq)
""",
}


def _statements(script):
    return [statement.strip() for statement in script.split(";\n") if statement.strip()]


def _add_resource_versions():
    return [f"ALTER TABLE {table} ADD COLUMN resource_version INTEGER NOT NULL DEFAULT 1" for table in _VERSIONED_TABLES]


def _one_credential_per_type(tx):
    """Keep the newest credential of each (cluster, type), record its key id, then enforce uniqueness."""
    rows = tx.all("SELECT id, cluster_id, type, data_encrypted FROM cluster_credentials ORDER BY created_at, id")
    newest = {}
    for row in rows:
        newest[(row["cluster_id"], row["type"])] = row
    keep = {row["id"] for row in newest.values()}
    for row in rows:
        if row["id"] not in keep:
            tx.execute("DELETE FROM cluster_credentials WHERE id = ?", (row["id"],))
    for row in newest.values():
        tx.execute("UPDATE cluster_credentials SET key_id = ? WHERE id = ?",
                   (crypto.envelope_key_id(bytes(row["data_encrypted"])), row["id"]))
    tx.execute("CREATE UNIQUE INDEX uq_credentials_cluster_type ON cluster_credentials(cluster_id, type)")


def _v2_steps(dialect):
    clusters = _V2_SQLITE_CLUSTERS if dialect == SQLITE else _V2_POSTGRESQL_CLUSTERS
    return (_statements(clusters) + _statements(_V2_COMMON) + _add_resource_versions()
            + [_one_credential_per_type] + _statements(_V2_AUDIT[dialect]))


# Version 3: webhook subscribers and one row per delivery attempt. ``details`` is JSON and
# ``created_at``/``updated_at``/``at`` are timestamps, so both backends convert them.
_V3_DESCRIPTION = "webhook subscribers and delivery records"

_V3_SQLITE = """
CREATE TABLE webhook_subscribers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL DEFAULT '*',
    secret_encrypted BLOB NOT NULL,
    key_id TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    last_seq INTEGER NOT NULL DEFAULT 0,
    details TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resource_version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    subscriber_id TEXT NOT NULL REFERENCES webhook_subscribers(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    outcome TEXT NOT NULL,
    error TEXT,
    at TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_webhook_deliveries_subscriber ON webhook_deliveries(subscriber_id, seq)
"""

_V3_POSTGRESQL = """
CREATE TABLE webhook_subscribers (
    id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(255) NOT NULL UNIQUE,
    url VARCHAR(2048) NOT NULL,
    event_types TEXT NOT NULL DEFAULT '*',
    secret_encrypted BYTEA NOT NULL,
    key_id VARCHAR(64) NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    last_seq BIGINT NOT NULL DEFAULT 0,
    details JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    resource_version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE webhook_deliveries (
    seq BIGSERIAL PRIMARY KEY,
    id VARCHAR(64) NOT NULL,
    subscriber_id VARCHAR(64) NOT NULL REFERENCES webhook_subscribers(id) ON DELETE CASCADE,
    event_id VARCHAR(64) NOT NULL,
    event_type VARCHAR(64) NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    outcome VARCHAR(32) NOT NULL,
    error TEXT,
    at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    details JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_webhook_deliveries_subscriber ON webhook_deliveries(subscriber_id, seq)
"""


MIGRATIONS = {
    SQLITE: [
        Migration(1, "seed data model", _statements(_V1_SQLITE)),
        Migration(2, "compare-and-swap versions, live-name uniqueness, credential key ids, audit log", _v2_steps(SQLITE)),
        Migration(3, _V3_DESCRIPTION, _statements(_V3_SQLITE)),
    ],
    POSTGRESQL: [
        Migration(1, "seed data model", _statements(_V1_POSTGRESQL)),
        Migration(2, "compare-and-swap versions, live-name uniqueness, credential key ids, audit log", _v2_steps(POSTGRESQL)),
        Migration(3, _V3_DESCRIPTION, _statements(_V3_POSTGRESQL)),
    ],
}

LATEST_VERSION = MIGRATIONS[SQLITE][-1].version


def pending(dialect, current_version):
    """The migrations a database at current_version still needs, in order."""
    return [migration for migration in MIGRATIONS[dialect] if migration.version > current_version]


def apply(tx, migration, applied_at):
    """Run one migration's steps and record it, inside the caller's transaction."""
    for step in migration.steps:
        if callable(step):
            step(tx)
        else:
            tx.execute(step)
    tx.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
               (migration.version, migration.description, applied_at))
