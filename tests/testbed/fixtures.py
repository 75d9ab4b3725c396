"""pytest fixtures of the testbed (loaded as a plugin from tests/conftest.py).

``testbed`` (session) is a running Testbed with real nodes: the one ``make testbed-up``
started when ``GPVE_TESTBED_ENV`` names its env file (``source .testbed/env`` sets it), else
a fresh one in a temp dir, stopped at the end of the session. ``standin_testbed`` (session)
is a second one whose kubelets the node stand-in plays (see testbed.py: for hundreds of
Nodes, and for workloads whose images cannot be had here); a directory's conftest makes
its tests use it with ``use_standin_testbed()``. Nothing starts until a test asks for one
of these fixtures.

    testbed        (real_testbed, the same) .kubeconfig .api_url .ca_path .node_names .storage_class .pve .pve_control
                   .stop_component(name) .start_component(name) .component_running(name) .ensure_running()
    kube_client    kubernetes.client.ApiClient as the testbed admin
    kube_namespace a fresh namespace (its default ServiceAccount exists), deleted after the test
    pve            PveEndpoint: url host port user password token_id token_secret ca_path
    pve_url        the fakepve API URL (https://127.0.0.2:<port>)
    pve_control    PveControl for fault injection; every fault is cleared after the test
    etcd_on_path   the testbed's etcd, etcdctl and etcdutl first on PATH for one test

(fakepve's own plugin keeps its ``fakepve*`` fixtures: a separate in-process fake each.)
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .processes import wait_until

if TYPE_CHECKING:  # the testbed modules import kubernetes and cryptography: only when a test needs them
    from .pve import PveEndpoint
    from .pve_control import PveControl
    from .testbed import Testbed


def _running_testbed() -> "Testbed | None":
    env_file = os.environ.get("GPVE_TESTBED_ENV")
    if not env_file or not Path(env_file).is_file():
        return None
    from .testbed import Testbed

    testbed = Testbed.load(Path(env_file).parent)
    testbed.ensure_running()
    return testbed


@pytest.fixture(scope="session")
def real_testbed(tmp_path_factory):
    """The testbed with real nodes, for the whole session: under this name too, so a directory that uses the
    stand-in testbed can still give one test module the real one (``testbed`` defined there from this)."""
    running = _running_testbed()
    if running is not None:
        yield running
        return
    from .testbed import Testbed

    fresh = Testbed.create(tmp_path_factory.mktemp("testbed"), for_this_process=True)
    try:
        yield fresh
    finally:
        fresh.stop()


@pytest.fixture(scope="session")
def testbed(real_testbed):
    """The running testbed for the whole session."""
    return real_testbed


@pytest.fixture(scope="session")
def standin_testbed(tmp_path_factory):
    """A testbed on loopback whose Nodes the node stand-in plays, for the whole session."""
    from .testbed import STANDIN, Testbed

    fresh = Testbed.create(tmp_path_factory.mktemp("standin-testbed"), nodes=3, node_mode=STANDIN,
                           for_this_process=True)
    try:
        yield fresh
    finally:
        fresh.stop()


def _kube_client(testbed):
    from kubernetes import config

    api = config.new_client_from_config(testbed.kubeconfig)
    try:
        yield api
    finally:
        api.close()


def _kube_namespace(kube_client):
    from kubernetes import client

    core = client.CoreV1Api(kube_client)
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace({"metadata": {"name": name, "labels": {"gpve.io/test": "true"}}})
    # Pods are refused until the service account controller made the namespace's default account.
    wait_until(lambda: core.read_namespaced_service_account("default", name), 60,
               f"default service account in {name}")
    try:
        yield name
    finally:
        core.delete_namespace(name)


def _pve_control(testbed):
    control = testbed.pve_control
    try:
        yield control
    finally:
        control.clear_faults()


@pytest.fixture(scope="session")
def kube_client(testbed):
    """kubernetes.client.ApiClient as the testbed admin."""
    yield from _kube_client(testbed)


@pytest.fixture
def kube_namespace(kube_client):
    """Name of a new namespace for one test, ready for pods; deleted (not awaited) afterwards."""
    yield from _kube_namespace(kube_client)


@pytest.fixture(scope="session")
def pve(testbed) -> "PveEndpoint":
    return testbed.pve


@pytest.fixture(scope="session")
def pve_url(pve) -> str:
    return pve.url


@pytest.fixture
def pve_control(testbed) -> "PveControl":
    yield from _pve_control(testbed)


@pytest.fixture
def etcd_on_path(monkeypatch):
    """The testbed's etcd, etcdctl and etcdutl (built at the testbed's version) first on PATH, as a
    controller with the etcd client tools installed has them."""
    from . import binaries

    tools = [str(binaries.tool(name)) for name in ("etcd", "etcdctl", "etcdutl")]
    monkeypatch.setenv("PATH", os.pathsep.join([*tools, os.environ.get("PATH", "")]))
    return tools


def use_standin_testbed() -> dict:
    """Fixtures for a directory's conftest (``globals().update(use_standin_testbed())``): its tests get
    the stand-in testbed under the usual names. Session fixtures are cached per definition, so
    every fixture that derives from ``testbed`` gets its own definition here."""
    @pytest.fixture(scope="session")
    def testbed(standin_testbed):
        return standin_testbed

    @pytest.fixture(scope="session")
    def kube_client(standin_testbed):
        yield from _kube_client(standin_testbed)

    @pytest.fixture
    def kube_namespace(kube_client):
        yield from _kube_namespace(kube_client)

    @pytest.fixture(scope="session")
    def pve(standin_testbed):
        return standin_testbed.pve

    @pytest.fixture(scope="session")
    def pve_url(standin_testbed):
        return standin_testbed.pve.url

    @pytest.fixture
    def pve_control(standin_testbed):
        yield from _pve_control(standin_testbed)

    return {"testbed": testbed, "kube_client": kube_client, "kube_namespace": kube_namespace, "pve": pve,
            "pve_url": pve_url, "pve_control": pve_control}
