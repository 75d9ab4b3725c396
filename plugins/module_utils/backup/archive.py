# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup archive: a tar.gz whose last member, ``manifest.json``, lists every other
member with its sha256 and size.

Layout::

    cluster.json                                  the cluster's registry record (no credentials)
    resources/<group|core>/<version>/<resource>/_cluster.json       cluster-scoped objects
    resources/<group|core>/<version>/<resource>/<namespace>.json    namespaced objects
    resources/core/v1/secrets/<namespace>.json.sealed               Secrets, sealed (secrets.py)
    etcd/snapshot.db                              an etcd snapshot (etcd and full backups)
    manifest.json

``read_verified`` checks everything before a caller may act on any of it: the whole
file's sha256 against the registry's record (any flipped byte, gzip header included),
the gzip CRC, that the members are exactly the manifest's, and each member's sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass, field

from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import ArchiveCorrupt

FORMAT = "gpve.cluster/backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CLUSTER_RECORD = "cluster.json"
ETCD_SNAPSHOT = "etcd/snapshot.db"
SPOOLED_PREFIX = "etcd/"
CHUNK = 1024 * 1024
COMPRESSLEVEL = 6


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def member_name_for(group, version, resource, namespace=None, sealed=False):
    name = f"resources/{group or 'core'}/{version}/{resource}/{namespace or '_cluster'}.json"
    return name + ".sealed" if sealed else name


def _check_name(name):
    normal = posixpath.normpath(name)
    if name != normal or normal.startswith(("/", "../")) or normal == "..":
        raise ArchiveCorrupt(f"member name {name!r} is not a plain relative path")


class ArchiveWriter:
    """Members in, a closed archive and its digest out. Use as a context manager."""

    def __init__(self, path, compresslevel=COMPRESSLEVEL):
        self.path = path
        self.members = {}
        self._mtime = int(time.time())
        self._tar = tarfile.open(path, "w:gz", compresslevel=compresslevel)  # pylint: disable=consider-using-with

    def add_bytes(self, name, data):
        self._add(name, len(data), io.BytesIO(data), hashlib.sha256(data).hexdigest())

    def add_json(self, name, value):
        self.add_bytes(name, json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8"))

    def add_file(self, name, path):
        digest = file_sha256(path)
        with open(path, "rb") as handle:
            self._add(name, os.fstat(handle.fileno()).st_size, handle, digest)

    def _add(self, name, size, handle, digest):
        _check_name(name)
        if name in self.members or name == MANIFEST:
            raise ValueError(f"archive member {name} added twice")
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, self._mtime, 0o600
        self._tar.addfile(info, handle)
        self.members[name] = {"sha256": digest, "size": size}

    def finish(self, manifest):
        """Write the manifest (with the member list) last, close, fsync; the archive's sha256 and size."""
        manifest = dict(manifest, format=FORMAT, format_version=FORMAT_VERSION, members=self.members)
        data = json.dumps(manifest, sort_keys=True, indent=1).encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), self._mtime, 0o600
        self._tar.addfile(info, io.BytesIO(data))
        self._tar.close()
        with open(self.path, "rb") as handle:
            os.fsync(handle.fileno())
        return {"sha256": file_sha256(self.path), "size": os.path.getsize(self.path), "manifest": manifest}

    def abort(self):
        try:
            self._tar.close()
        except (OSError, tarfile.TarError):
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None:
            self.abort()


@dataclass
class VerifiedArchive:
    """A checked archive: the manifest, small members in memory, big ones (etcd) as files in work_dir."""

    manifest: dict
    members: dict
    files: dict = field(default_factory=dict)

    def json(self, name):
        return json.loads(self.members[name])


def read_verified(path, work_dir, expected_sha256=None):
    """The archive at path, verified end to end; ArchiveCorrupt names the first thing that does not match."""
    if expected_sha256:
        actual = file_sha256(path)
        if actual != expected_sha256:
            raise ArchiveCorrupt(f"archive sha256 is {actual}, the registry recorded {expected_sha256}: "
                                 "the file was altered or damaged; nothing was restored")
    try:
        members, files, digests = _read_members(path, work_dir)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise ArchiveCorrupt(f"archive {os.path.basename(path)} cannot be read as tar.gz: {error}") from None
    manifest = _manifest(members)
    digests.pop(MANIFEST, None)
    _check_members(manifest, digests)
    return VerifiedArchive(manifest=manifest, members=members, files=files)


def _read_members(path, work_dir):
    members, files, digests = {}, {}, {}
    with tarfile.open(path, "r:gz") as tar:
        for info in tar:
            _check_name(info.name)
            if not info.isfile():
                raise ArchiveCorrupt(f"member {info.name} is not a regular file")
            if info.name in digests:
                raise ArchiveCorrupt(f"member {info.name} appears twice")
            source = tar.extractfile(info)
            if info.name.startswith(SPOOLED_PREFIX):
                files[info.name], digests[info.name] = _spool(source, work_dir)
            else:
                data = source.read()
                members[info.name], digests[info.name] = data, (hashlib.sha256(data).hexdigest(), len(data))
        # Reading to the very end makes gzip check its CRC and length trailer.
        while tar.fileobj.read(CHUNK):
            pass
    return members, files, digests


def _spool(source, work_dir):
    digest, size = hashlib.sha256(), 0
    fd, spooled = tempfile.mkstemp(dir=work_dir, prefix="member-")
    with os.fdopen(fd, "wb") as out:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return spooled, (digest.hexdigest(), size)


def _manifest(members):
    if MANIFEST not in members:
        raise ArchiveCorrupt("the archive has no manifest.json")
    try:
        manifest = json.loads(members.pop(MANIFEST))
    except ValueError:
        raise ArchiveCorrupt("manifest.json is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveCorrupt(f"not a {FORMAT} archive")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveCorrupt(f"archive format version {manifest.get('format_version')}; this collection reads {FORMAT_VERSION}")
    return manifest


def _check_members(manifest, digests):
    listed = manifest.get("members") or {}
    missing = sorted(set(listed) - set(digests))
    extra = sorted(set(digests) - set(listed))
    if missing or extra:
        raise ArchiveCorrupt(f"archive members differ from the manifest (missing: {missing or 'none'}, "
                             f"unlisted: {extra or 'none'})")
    for name, (digest, size) in sorted(digests.items()):
        expected = listed[name]
        if expected.get("sha256") != digest or expected.get("size") != size:
            raise ArchiveCorrupt(f"member {name} has sha256 {digest} ({size} bytes), the manifest says "
                                 f"{expected.get('sha256')} ({expected.get('size')} bytes)")
