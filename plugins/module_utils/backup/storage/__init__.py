# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where backup archives live: a local directory (local.py) or an S3 bucket (s3.py).

Both place an archive atomically (a local temp name renamed into place; an S3 object
appears only when its upload completes) and name it ``<cluster name>/<backup id>.tar.gz``
under their root. A backup records its location as a URL (``file:///...``, ``s3://bucket/key``)
and the storage settings that hold no secret, so restore and delete find it again with
only the credentials supplied.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import StorageError
from ansible_collections.gpve.cluster.plugins.module_utils.backup.storage.local import LocalStorage
from ansible_collections.gpve.cluster.plugins.module_utils.backup.storage.s3 import S3Storage

STORAGE_TYPES = ("local", "s3")


def archive_key(cluster_name, backup_id):
    return f"{cluster_name}/{backup_id}.tar.gz"


def open_storage(settings):
    """A backend from the module's storage option (a dict, env fallbacks already applied)."""
    storage_type = settings.get("type") or "local"
    if storage_type == "local":
        return LocalStorage(settings.get("path") or LocalStorage.default_path())
    if storage_type == "s3":
        return S3Storage(bucket=settings.get("bucket"), prefix=settings.get("prefix") or "",
                         endpoint_url=settings.get("endpoint_url"), region=settings.get("region"),
                         access_key=settings.get("access_key"), secret_key=settings.get("secret_key"))
    raise StorageError(f"storage.type: must be one of {', '.join(STORAGE_TYPES)}, not {storage_type!r}")


def storage_for_location(location, recorded, settings):
    """(backend, key) for a recorded location URL.

    recorded: the storage settings saved with the backup (no secrets); settings: the module's
    storage option, whose endpoint, region and credentials win when given.
    """
    parts = urlsplit(location or "")
    if parts.scheme == "file":
        path = unquote(parts.path)
        root = recorded.get("path") or path.rsplit("/", 2)[0]
        return LocalStorage(root), path[len(root):].lstrip("/")
    if parts.scheme == "s3":
        merged = dict(recorded)
        merged.update({key: value for key, value in settings.items() if value and key != "type"})
        prefix = recorded.get("prefix") or ""
        key = unquote(parts.path).lstrip("/")
        backend = S3Storage(bucket=parts.netloc, prefix=prefix, endpoint_url=merged.get("endpoint_url"),
                            region=merged.get("region"), access_key=merged.get("access_key"),
                            secret_key=merged.get("secret_key"))
        return backend, key[len(backend.prefix):] if backend.prefix and key.startswith(backend.prefix) else key
    raise StorageError(f"backup location {location!r} is neither file:// nor s3://")
