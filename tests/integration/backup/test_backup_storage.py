"""Storage: S3 through moto's standalone server on loopback (multipart included), and the local directory."""

from __future__ import annotations

import os

import boto3
import pytest
from backup_support import local_storage, request
from kubernetes import client

from ansible_collections.gpve.cluster.plugins.module_utils.backup.archive import file_sha256
from ansible_collections.gpve.cluster.plugins.module_utils.backup.storage.local import LocalStorage
from ansible_collections.gpve.cluster.plugins.module_utils.backup.storage.s3 import MIB, S3Storage

pytestmark = pytest.mark.backup
CREDENTIALS = {"access_key": "gpve-test", "secret_key": "gpve-test-secret", "region": "us-east-1"}


def _bucket(moto_s3, name):
    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1", aws_access_key_id="gpve-test",
                      aws_secret_access_key="gpve-test-secret")
    s3.create_bucket(Bucket=name)
    return s3


def test_s3_round_trip_through_moto(service, registered, kube_client, namespaces, moto_s3):
    _store, cluster = registered
    namespace = namespaces("s3")
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {"k": "v"}})
    bucket = f"b-{namespace}"
    s3 = _bucket(moto_s3, bucket)
    storage = dict(CREDENTIALS, type="s3", bucket=bucket, prefix="team", endpoint_url=moto_s3)

    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[namespace], storage=storage))
    key = f"team/{cluster.name}/{taken['backup']['id']}.tar.gz"
    assert taken["location"] == f"s3://{bucket}/{key}"
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == taken["size_bytes"]
    assert taken["backup"]["metadata"]["storage"] == {"type": "s3", "bucket": bucket, "prefix": "team/",
                                                      "endpoint_url": moto_s3, "region": "us-east-1"}

    core.delete_namespaced_config_map("settings", namespace)
    # The record knows the bucket and endpoint: only the credentials are needed again.
    restored = service.run(request(state="restored", backup_id=taken["backup"]["id"],
                                   storage=dict(CREDENTIALS, type="s3")))
    assert restored["restore"]["resources"]["configmaps"]["created"] == 1
    assert core.read_namespaced_config_map("settings", namespace).data == {"k": "v"}

    deleted = service.run(request(state="absent", backup_id=taken["backup"]["id"], storage=dict(CREDENTIALS, type="s3")))
    assert [entry["id"] for entry in deleted["deleted"]] == [taken["backup"]["id"]]
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_big_archives_go_up_in_parts_and_come_back_whole(moto_s3, tmp_path):
    _bucket(moto_s3, "multipart")
    storage = S3Storage("multipart", endpoint_url=moto_s3, multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB,
                        **CREDENTIALS)
    source = tmp_path / "big.tar.gz"
    source.write_bytes(os.urandom(12 * MIB))
    storage.store(str(source), "c/big.tar.gz")
    assert storage.head("c/big.tar.gz")["ETag"].strip('"').endswith("-3")  # three parts
    fetched = tmp_path / "fetched"
    storage.fetch("c/big.tar.gz", str(fetched))
    assert file_sha256(str(fetched)) == file_sha256(str(source))
    assert storage.delete("c/big.tar.gz") is True and storage.delete("c/big.tar.gz") is False


def test_local_storage_writes_atomically_0700_and_leaves_no_partial_file(tmp_path):
    storage = LocalStorage(str(tmp_path / "store"))
    source = tmp_path / "a.tar.gz"
    source.write_bytes(b"archive")
    location = storage.store(str(source), "demo/b1.tar.gz")
    assert location == f"file://{tmp_path}/store/demo/b1.tar.gz"
    assert os.listdir(tmp_path / "store" / "demo") == ["b1.tar.gz"]
    assert (os.stat(tmp_path / "store" / "demo").st_mode & 0o777) == 0o700
    assert storage.delete("demo/b1.tar.gz") is True and not storage.exists("demo/b1.tar.gz")


def test_local_round_trip_with_defaults_from_the_environment(service, registered, kube_client, namespaces, tmp_path,
                                                             monkeypatch):
    _store, cluster = registered
    namespace = namespaces("local")
    client.CoreV1Api(kube_client).create_namespaced_config_map(namespace, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[namespace],
                                storage={"type": "local"}))
    expected = tmp_path / "xdg" / "gpve" / "backups" / cluster.name / f"{taken['backup']['id']}.tar.gz"
    assert taken["location"] == f"file://{expected}" and expected.is_file()
    assert file_sha256(str(expected)) == taken["sha256"]
    assert local_storage(tmp_path)["type"] == "local"


def test_a_failed_upload_leaves_a_failed_record_and_no_object(service, registered, namespaces, moto_s3):
    from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import StorageError

    store, cluster = registered
    namespace = namespaces("s3fail")
    storage = dict(CREDENTIALS, type="s3", bucket=f"missing-{namespace}", endpoint_url=moto_s3)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        service.run(request(cluster=cluster.name, type="resources", include_namespaces=[namespace], storage=storage))
    (record,) = store.list_backups(cluster_id=cluster.id)
    assert record.status == "Failed" and "NoSuchBucket" in record.metadata["error"]
    assert record.storage_location is None and record.completed_at is not None
