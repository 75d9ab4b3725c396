# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restoring a backup (state=restored).

The archive is fetched and verified in full (registry sha256, manifest, every member)
before the cluster is touched; then the resources are planned and restored, and the etcd
snapshot, when asked, is handed over as a verified file (``etcd_snapshot``) or restored
into a new data dir (``etcd_restore``). A cluster-wide etcd restore on K8s-on-VM control
planes is playbooks/backup/restore_etcd.yml's job, following each distribution's procedure.
"""

from __future__ import annotations

import os
import shutil

from ansible_collections.gpve.cluster.plugins.module_utils.backup import archive, etcd
from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import RestoreRefused
from ansible_collections.gpve.cluster.plugins.module_utils.backup.planner import plan_restore
from ansible_collections.gpve.cluster.plugins.module_utils.backup.restorer import Restorer
from ansible_collections.gpve.cluster.plugins.module_utils.backup.storage import storage_for_location

COMPLETED = "Completed"
PARTS = {"full": ("resources", "etcd"), "resources": ("resources",), "etcd": ("etcd",)}


def restore_parts(request, record):
    """Which parts of the backup to restore: request.type (default: the backup's type) within what it holds."""
    wanted = request.type or record.type
    missing = [part for part in PARTS[wanted] if part not in PARTS[record.type]]
    if wanted == "full" and record.type != "full":
        missing = []
        wanted = record.type
    if missing:
        raise RestoreRefused(f"backup {record.id} is a {record.type} backup: it holds no {', '.join(missing)}")
    parts = set(PARTS[wanted])
    if "etcd" in parts and not (request.etcd_snapshot or request.etcd_restore):
        if wanted == "etcd":
            raise RestoreRefused("restoring etcd needs etcd_snapshot (where to put the verified snapshot) or "
                                 "etcd_restore (a new data dir); playbooks/backup/restore_etcd.yml restores control planes")
        parts.discard("etcd")
    return parts


def fetch_verified(record, settings, work_dir):
    """The backup's archive, fetched into work_dir and verified end to end."""
    if record.status != COMPLETED or not record.storage_location:
        raise RestoreRefused(f"backup {record.id} is {record.status}: only Completed backups can be restored")
    backend, key = storage_for_location(record.storage_location, record.metadata.get("storage") or {}, settings)
    local = os.path.join(work_dir, "archive.tar.gz")
    backend.fetch(key, local)
    return archive.read_verified(local, work_dir, expected_sha256=record.metadata.get("sha256"))


def restore_backup(store, record, target, rest_for, request, work_dir):
    """Restore record into target (a registry Cluster); rest_for(cluster) gives a Rest. The module's result."""
    parts = restore_parts(request, record)
    verified = fetch_verified(record, request.storage, work_dir)
    result = {"changed": False, "backup": record.as_dict(), "target_cluster": target.name, "verified": True,
              "restore": None, "etcd": None}
    if "resources" in parts:
        keyring = store.keyring()
        plan = plan_restore(verified, request.filters, keyring, request.namespace_mapping, record.id)
        report = Restorer(rest_for(target), request.existing_resource_policy, request.check_mode).run(plan)
        totals = report.totals()
        result["restore"] = dict(report.as_dict(), planned=plan.counts(), namespaces=plan.namespaces)
        result["changed"] = bool(totals["created"] or totals["updated"])
    if "etcd" in parts:
        result["etcd"] = _restore_etcd(verified, request)
        result["changed"] = True  # a snapshot file or a data dir is written (or would be, in check mode)
    return result


def _restore_etcd(verified, request):
    snapshot = verified.files.get(archive.ETCD_SNAPSHOT)
    if snapshot is None:
        raise RestoreRefused("the archive holds no etcd snapshot")
    outcome = {"snapshot": verified.manifest.get("etcd"), "written_to": None, "data_dir": None}
    if request.check_mode:
        return outcome
    if request.etcd_snapshot:
        shutil.copyfile(snapshot, request.etcd_snapshot)
        os.chmod(request.etcd_snapshot, 0o600)
        outcome["written_to"] = request.etcd_snapshot
    if request.etcd_restore:
        options = request.etcd_restore
        restored = etcd.restore_snapshot(snapshot, options["data_dir"], options["name"], options["initial_cluster"],
                                         options["initial_advertise_peer_urls"],
                                         options.get("initial_cluster_token") or "etcd-cluster",
                                         etcdctl=options.get("etcdctl"), etcdutl=options.get("etcdutl"))
        outcome["data_dir"] = restored["data_dir"]
    return outcome
