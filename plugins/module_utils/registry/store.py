# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry store: one interface over the SQLite and PostgreSQL backends.

Every public method is one transaction; every write also appends an audit row in that
transaction. The methods live by entity in clusters.py, nodes.py, events.py,
credentials.py, backups.py and webhooks.py; this class joins them to a backend. Get one
from ``registry.open_registry()``. A store is for one thread; it reconnects after a fork.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.registry import audit, validation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.backups import BackupOps
from ansible_collections.gpve.cluster.plugins.module_utils.registry.clusters import ClusterOps, inventory_rows, select_clusters
from ansible_collections.gpve.cluster.plugins.module_utils.registry.credentials import CredentialOps
from ansible_collections.gpve.cluster.plugins.module_utils.registry.events import EventOps
from ansible_collections.gpve.cluster.plugins.module_utils.registry.nodes import NodeOps, nodes_by_cluster
from ansible_collections.gpve.cluster.plugins.module_utils.registry.records import Snapshot
from ansible_collections.gpve.cluster.plugins.module_utils.registry.webhooks import WebhookOps


class Store(ClusterOps, NodeOps, EventOps, CredentialOps, BackupOps, WebhookOps):
    """The cluster registry. ``location`` is safe to show (a path, or a DSN without password)."""

    def __init__(self, backend, keyring_source, actor=None):
        self._backend = backend
        self._keys = keyring_source
        self.dialect = backend.dialect
        self.location = backend.location
        self.actor = actor or audit.detect_actor()
        # True once a committed write transaction changed a row: a module run that wrote reports changed.
        self.wrote = False

    @property
    def notices(self):
        """Things the caller should tell the user (e.g. a key file was generated); modules add them to warnings."""
        return list(self._keys.notices)

    def keyring(self, for_encrypt=False):
        return self._keys.get(for_encrypt=for_encrypt)

    def schema_version(self):
        return self._read(lambda tx: tx.one("SELECT MAX(version) AS version FROM schema_version")["version"])

    def peek_schema_version(self):
        """The stored schema version, creating and migrating nothing (check mode); None: no database yet."""
        return self._backend.peek_schema_version()

    def bulk_snapshot(self, type=None, phase=None, labels=None, include_deleted=False):  # pylint: disable=redefined-builtin
        """Matching clusters (spec and status) and their nodes, from one consistent snapshot.

        Three to five queries whatever the number of clusters: made for the inventory plugin.
        """
        def work(tx):
            clusters = select_clusters(tx, cluster_type=type, phase=phase, labels=labels, include_deleted=include_deleted)
            return Snapshot(clusters=clusters, nodes=nodes_by_cluster(tx, [cluster.id for cluster in clusters]))

        return self._read(work, snapshot=True)

    def inventory_rows(self, type=None, phase=None, labels=None):  # pylint: disable=redefined-builtin
        """(cluster rows, node rows) of the matching live clusters as plain dicts, from one snapshot.

        Two queries whatever the number of clusters, only the columns an inventory shows (see
        clusters.inventory_rows): the lean form of bulk_snapshot for the inventory plugin.
        """
        return self._read(lambda tx: inventory_rows(tx, cluster_type=type, phase=phase, labels=labels), snapshot=True)

    def list_audit(self, cluster_id=None, entity=None, limit=100):
        """Audit entries newest first."""
        return self._read(lambda tx: audit.list_entries(tx, cluster_id, entity, limit))

    def prune_audit(self, before):
        """Delete audit entries older than before (a datetime); returns how many."""
        validation.timestamp("before", before)

        def work(tx):
            pruned = tx.execute("DELETE FROM audit_log WHERE at < ?", (before,))
            self._audit(tx, "prune", "audit_log", "audit_log", None, {"pruned": pruned})
            return pruned

        return self._write(work)

    def close(self):
        self._backend.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # For the entity mixins ----------------------------------------------------------------

    def _write(self, work):
        counted = []

        def counting(tx):
            result = work(tx)
            counted.append(tx.rows_changed)
            return result

        result = self._backend.write(counting)
        if counted and counted[-1]:
            self.wrote = True
        return result

    def _read(self, work, snapshot=False):
        return self._backend.read(work, snapshot=snapshot)

    def _audit(self, tx, action, entity, entity_id, cluster_id=None, details=None):
        audit.record(tx, self.actor, action, entity, entity_id, cluster_id, details)
