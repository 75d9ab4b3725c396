# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gpve_cluster_backup's three states over one registry: present (take), restored, absent (delete, prune).

``connection_for(cluster)`` connects to a registered cluster (by default kube.connect with its
stored kubeconfig credential); a private work directory holds the archive while it is built
or checked and is removed afterwards.
"""

from __future__ import annotations

import shutil
import tempfile

from ansible_collections.gpve.cluster.plugins.module_utils.backup.delete import delete_backup, prune_backups
from ansible_collections.gpve.cluster.plugins.module_utils.backup.rest import Rest
from ansible_collections.gpve.cluster.plugins.module_utils.backup.restore import restore_backup
from ansible_collections.gpve.cluster.plugins.module_utils.backup.storage import open_storage
from ansible_collections.gpve.cluster.plugins.module_utils.backup.take import take_backup
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import NotFound

# Connections kept open for the requests an export or a restore makes in parallel.
PARALLEL_REQUESTS = 16


class BackupService:
    def __init__(self, store, connection_for=None, work_root=None):
        self.store = store
        self.connection_for = connection_for or (lambda cluster: connect(store=store, cluster=cluster,
                                                                         pool_size=PARALLEL_REQUESTS))
        self.work_root = work_root
        self._clients = []

    def run(self, request):
        request.validate()
        work_dir = tempfile.mkdtemp(prefix="gpve-backup-", dir=self.work_root)
        try:
            if request.state == "present":
                return self._present(request, work_dir)
            if request.state == "restored":
                return self._restored(request, work_dir)
            return self._absent(request)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
            for client in self._clients:
                client.close()
            self._clients = []

    def find_cluster(self, name_or_id, include_deleted=False):
        found = self.store.find_cluster(name_or_id)
        if found is not None:
            return found
        try:
            return self.store.get_cluster(name_or_id, include_deleted=include_deleted)
        except NotFound:
            raise NotFound("cluster", name_or_id) from None

    def rest_for(self, cluster):
        client = self.connection_for(cluster)
        self._clients.append(client)
        return Rest(client)

    def _present(self, request, work_dir):
        cluster = self.find_cluster(request.cluster)
        storage = open_storage(request.storage)
        wants_resources = (request.type or "full") in ("full", "resources")
        rest = self.rest_for(cluster) if wants_resources else None
        result = take_backup(self.store, cluster, rest, storage, request, work_dir)
        return dict(result, cluster=cluster.name)

    def _restored(self, request, work_dir):
        record = self.store.get_backup(request.backup_id)
        target = self.find_cluster(request.cluster) if request.cluster else self.store.get_cluster(record.cluster_id)
        return restore_backup(self.store, record, target, self.rest_for, request, work_dir)

    def _absent(self, request):
        if request.prune:
            cluster_id = self.find_cluster(request.cluster, include_deleted=True).id if request.cluster else None
            return prune_backups(self.store, cluster_id, request.storage, request.check_mode)
        return delete_backup(self.store, request.backup_id, request.storage, request.check_mode)
