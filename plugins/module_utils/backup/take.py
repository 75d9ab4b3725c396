# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Taking a backup (state=present): export, etcd snapshot, archive, storage, registry record.

The registry row is created Running before the first byte is written and ends Completed
(location, size, sha256, counts) or Failed (the reason); an archive is only visible in
storage once complete. Check mode exports (reads only) and reports what would be saved.
"""

from __future__ import annotations

import json
import os

from ansible_collections.gpve.cluster.plugins.module_utils.backup import archive, etcd, secrets
from ansible_collections.gpve.cluster.plugins.module_utils.backup.export import export_resources
from ansible_collections.gpve.cluster.plugins.module_utils.backup.retention import expiry
from ansible_collections.gpve.cluster.plugins.module_utils.backup.storage import archive_key
from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow

RUNNING, COMPLETED, FAILED = "Running", "Completed", "Failed"


def backup_parts(request, cluster):
    """(resources, etcd): what this backup holds, given its type and the etcd source offered."""
    backup_type = request.type or "full"
    has_etcd_source = bool(request.etcd or request.etcd_snapshot)
    if backup_type == "etcd" and not has_etcd_source:
        raise ValidationError("etcd", "an etcd backup needs etcd (endpoints to snapshot) or etcd_snapshot "
                                      "(a snapshot taken by the etcd_backup role)")
    if backup_type == "full" and cluster.type == kinds.K8S_VM and not has_etcd_source:
        raise ValidationError("etcd", "a full backup of a K8s-on-VM cluster includes etcd: give etcd (endpoints) or "
                                      "etcd_snapshot (taken with the etcd_backup role), or use type=resources")
    return backup_type in ("full", "resources"), backup_type == "etcd" or (backup_type == "full" and has_etcd_source)


def take_backup(store, cluster, rest, storage, request, work_dir):
    """Back up cluster; the module's result."""
    want_resources, want_etcd = backup_parts(request, cluster)
    backup_type = request.type or "full"
    exported = export_resources(rest, request.filters) if want_resources else None
    summary = _summary(exported, want_etcd, request)
    if request.check_mode:
        return dict(summary, changed=True, backup=None,
                    location=storage.location(archive_key(cluster.name, "<backup id>")))
    started = utcnow()
    record = store.create_backup(cluster.id, backup_type, status=RUNNING, started_at=started,
                                 expires_at=expiry(started, request.retention_hours),
                                 metadata={"storage": storage.settings(), "filters": request.filters.as_dict()})
    try:
        written = _write_archive(store, cluster, rest, record, exported, want_etcd, request, work_dir)
        location = storage.store(written["path"], archive_key(cluster.name, record.id))
    except (GpveError, OSError) as error:
        store.update_backup(record.id, status=FAILED, completed_at=utcnow(),
                            metadata=dict(record.metadata, error=str(error)))
        raise
    manifest = written["manifest"]
    metadata = dict(record.metadata, sha256=written["sha256"], counts=manifest.get("counts", {}),
                    total_objects=manifest.get("total_objects", 0), etcd=manifest.get("etcd"),
                    versions=manifest.get("versions"), key_id=manifest["encryption"]["key_id"])
    record = store.update_backup(record.id, status=COMPLETED, storage_location=location, size_bytes=written["size"],
                                 completed_at=utcnow(), metadata=metadata)
    return dict(summary, changed=True, backup=record.as_dict(), location=location, sha256=written["sha256"],
                size_bytes=written["size"], etcd=manifest.get("etcd"))


def _summary(exported, want_etcd, request):
    summary = {"counts": {}, "total_objects": 0, "namespaces": [], "left_out": {}, "unavailable_apis": [],
               "etcd": None}
    if exported is not None:
        summary.update(counts=exported.counts(), total_objects=exported.total, namespaces=exported.namespaces(),
                       left_out=exported.left_out, unavailable_apis=exported.unavailable)
    if want_etcd:
        summary["etcd"] = {"snapshot": request.etcd_snapshot} if request.etcd_snapshot else {
            "endpoints": request.etcd["endpoints"]}
    return summary


def _write_archive(store, cluster, rest, record, exported, want_etcd, request, work_dir):
    path = os.path.join(work_dir, f"{record.id}.tar.gz")
    keyring = store.keyring(for_encrypt=True)
    manifest = {"backup_id": record.id, "type": record.type, "created_at": record.started_at.isoformat(),
                "cluster": {"id": cluster.id, "name": cluster.name, "type": cluster.type},
                "versions": {"kubernetes": _server_version(rest) if exported is not None else None},
                "filters": request.filters.as_dict(), "resources": [], "counts": {}, "total_objects": 0,
                "encryption": {"key_id": keyring.primary_key_id, "sealed_resources": list(secrets.SEALED_RESOURCES)},
                "etcd": None}
    with archive.ArchiveWriter(path) as writer:
        writer.add_json(archive.CLUSTER_RECORD, cluster.as_dict())
        if exported is not None:
            manifest["resources"] = _add_resources(writer, exported, keyring, record.id)
            manifest.update(counts=exported.counts(), total_objects=exported.total, left_out=exported.left_out)
        if want_etcd:
            manifest["etcd"] = _add_etcd(writer, request, work_dir)
            manifest["versions"]["etcdctl"] = etcd.tool_version((request.etcd or {}).get("etcdctl"))
        return dict(writer.finish(manifest), path=path)


def _add_resources(writer, exported, keyring, backup_id):
    index = []
    for member in exported.members:
        rtype = member.rtype
        sealed = secrets.is_sealed_resource(rtype)
        name = archive.member_name_for(rtype.group, rtype.version, rtype.resource, member.namespace, sealed)
        data = json.dumps(member.items, sort_keys=True, separators=(",", ":")).encode("utf-8")
        writer.add_bytes(name, secrets.seal(keyring, backup_id, name, data) if sealed else data)
        index.append(dict(rtype.as_dict(), namespace=member.namespace, member=name, count=len(member.items),
                          sealed=sealed))
    return index


def _add_etcd(writer, request, work_dir):
    options = request.etcd or {}
    if request.etcd_snapshot:
        snapshot, endpoint = request.etcd_snapshot, None
    else:
        snapshot = os.path.join(work_dir, "etcd-snapshot.db")
        endpoint = etcd.save_snapshot(options["endpoints"], snapshot, cacert=options.get("cacert"),
                                      cert=options.get("cert"), key=options.get("key"), etcdctl=options.get("etcdctl"))
    status = etcd.snapshot_status(snapshot, etcdctl=options.get("etcdctl"), etcdutl=options.get("etcdutl"))
    writer.add_file(archive.ETCD_SNAPSHOT, snapshot)
    return dict(status, member=archive.ETCD_SNAPSHOT, endpoint=endpoint)


def _server_version(rest):
    return rest.call("GET", "/version", "server version").get("gitVersion")
