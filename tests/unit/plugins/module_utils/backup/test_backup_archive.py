"""The archive: manifest with a sha256 per member; any flipped byte or extra member is refused."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.backup import archive
from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import ArchiveCorrupt

pytestmark = pytest.mark.backup


def _write(path, tmp_path):
    snapshot = tmp_path / "snap.db"
    snapshot.write_bytes(os.urandom(200_000))
    with archive.ArchiveWriter(str(path)) as writer:
        writer.add_json("cluster.json", {"name": "demo"})
        writer.add_bytes("resources/core/v1/configmaps/app.json", b'[{"kind":"ConfigMap"}]')
        writer.add_file(archive.ETCD_SNAPSHOT, str(snapshot))
        return writer.finish({"backup_id": "b1"})


def test_written_archive_reads_back_verified(tmp_path):
    path = tmp_path / "a.tar.gz"
    written = _write(path, tmp_path)
    verified = archive.read_verified(str(path), str(tmp_path), expected_sha256=written["sha256"])
    assert verified.json("cluster.json") == {"name": "demo"}
    assert set(verified.manifest["members"]) == {"cluster.json", "resources/core/v1/configmaps/app.json",
                                                 archive.ETCD_SNAPSHOT}
    assert archive.file_sha256(verified.files[archive.ETCD_SNAPSHOT]) == archive.file_sha256(str(tmp_path / "snap.db"))


@pytest.mark.parametrize("where", ["gzip header mtime", "middle", "last byte"])
def test_any_flipped_byte_is_refused(tmp_path, where):
    path = tmp_path / "a.tar.gz"
    written = _write(path, tmp_path)
    data = bytearray(path.read_bytes())
    offset = {"gzip header mtime": 5, "middle": len(data) // 2, "last byte": len(data) - 1}[where]
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveCorrupt):
        archive.read_verified(str(path), str(tmp_path), expected_sha256=written["sha256"])


def test_without_the_registry_digest_damage_inside_is_still_refused(tmp_path):
    path = tmp_path / "a.tar.gz"
    _write(path, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveCorrupt):
        archive.read_verified(str(path), str(tmp_path))


def test_a_member_the_manifest_does_not_list_is_refused(tmp_path):
    path = tmp_path / "a.tar.gz"
    with archive.ArchiveWriter(str(path)) as writer:
        writer.add_bytes("resources/core/v1/configmaps/app.json", b"[]")
        manifest = writer.finish({"backup_id": "b1"})["manifest"]
    # Rebuild it with one more member but the same manifest: every listed digest still matches.
    rebuilt = tmp_path / "b.tar.gz"
    with tarfile.open(path, "r:gz") as source, tarfile.open(rebuilt, "w:gz") as target:
        for info in source:
            target.addfile(info, source.extractfile(info))
        extra = b'[{"kind":"Secret"}]'
        info = tarfile.TarInfo("resources/core/v1/secrets/app.json")
        info.size = len(extra)
        target.addfile(info, io.BytesIO(extra))
    assert manifest["members"]
    with pytest.raises(ArchiveCorrupt, match="unlisted"):
        archive.read_verified(str(rebuilt), str(tmp_path))


def test_path_traversal_names_are_refused(tmp_path):
    with archive.ArchiveWriter(str(tmp_path / "a.tar.gz")) as writer:
        with pytest.raises(ArchiveCorrupt):
            writer.add_bytes("../escape.json", b"{}")
