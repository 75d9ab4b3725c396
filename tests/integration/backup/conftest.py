"""Fixtures of the backup tests: the testbed registered in a fresh registry, namespaces made per test, moto."""

from __future__ import annotations

import uuid

import pytest
from backup_support import ModuleRunner, register_testbed, start_moto
from kubernetes import client
from kubernetes.client.rest import ApiException

from ansible_collections.gpve.cluster.plugins.module_utils.backup.service import BackupService
from tests.testbed.processes import free_port


@pytest.fixture
def registry_path(tmp_path):
    return tmp_path / "registry" / "registry.db"


@pytest.fixture
def registered(registry_path, testbed):
    """(store, cluster): the testbed as a registered cluster."""
    registry_path.parent.mkdir(parents=True, exist_ok=True)
    store, cluster = register_testbed(str(registry_path), testbed)
    with store:
        yield store, cluster


@pytest.fixture
def service(registered, tmp_path):
    store, _cluster = registered
    return BackupService(store, work_root=str(tmp_path))


@pytest.fixture
def backup_dir(tmp_path):
    return tmp_path / "backups"


@pytest.fixture
def namespaces(kube_client):
    """make(prefix) -> a new namespace named after prefix; all of them (and mapped ones) deleted after the test."""
    core = client.CoreV1Api(kube_client)
    made = []

    def make(prefix="bk", create=True):
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        if create:
            core.create_namespace({"metadata": {"name": name, "labels": {"gpve.io/test": "backup"}}})
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            core.delete_namespace(name)
        except ApiException as error:
            if error.status != 404:
                raise


@pytest.fixture
def module(registry_path, tmp_path, registered):
    return ModuleRunner(registry_path, tmp_path)


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory):
    """moto's standalone S3 server on loopback: its URL. Stopped (by pid) at the end of the session."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    process, url = start_moto(free_port(), log)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except Exception:  # pylint: disable=broad-except
            process.kill()
            process.wait()


@pytest.fixture
def crd_groups(kube_client):
    """make() -> a unique API group for a test's CRD; every CRD of those groups is deleted after the test."""
    from backup_support import delete_crd, unique_group

    made = []

    def make():
        made.append(unique_group())
        return made[-1]

    yield make
    for group in made:
        delete_crd(kube_client, group)
