"""Faults: the host API server restarts during a create; RBAC refuses a write."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError, KubeWaitTimeout
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import run_module
from tests.testbed.kube import service_account_token

pytestmark = pytest.mark.vcluster

LIMIT = 120.0


def poll(check, what):
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not reached within {LIMIT:.0f}s")


def phase_of(open_store, name):
    with open_store() as store:
        cluster = store.find_cluster(name)
        return cluster.status.phase if cluster else None


class Background:
    """run_vcluster in a thread; .join() gives its result or raises its error."""

    def __init__(self, run, *args, **kwargs):
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._target, args=(run, args, kwargs))
        self.thread.start()

    def _target(self, run, args, kwargs):
        try:
            self.result = run(*args, **kwargs)
        except Exception as error:  # pylint: disable=broad-exception-caught
            self.error = error

    def join(self):
        self.thread.join(LIMIT)
        assert not self.thread.is_alive(), "the run did not end"
        if self.error:
            raise self.error
        return self.result


@pytest.fixture
def pods_not_ready(testbed):
    """The node stand-in stopped: control-plane pods stay unready until the test starts it again."""
    testbed.stop_component("node-standin")
    yield
    if not testbed.component_running("node-standin"):
        testbed.start_component("node-standin")


@pytest.fixture
def api_server_back(testbed):
    """Whatever the test does to the API server, the whole testbed runs again afterwards.

    The controller manager may exit when it loses the API server for a while; ensure_running
    starts whatever stopped, in dependency order.
    """
    yield
    testbed.ensure_running()


def restart_api_server(testbed):
    """Stop and start the API server, then whatever else stopped meanwhile."""
    testbed.stop_component("kube-apiserver")
    testbed.start_component("kube-apiserver")
    testbed.ensure_running()


def control_plane_pod_created(host_resources, name):
    return host_resources.get("Pod", f"{name}-0", f"vc-{name}") is not None


def test_a_create_waits_through_an_api_server_restart(run_vcluster, open_store, host_resources, testbed,
                                                      pods_not_ready, api_server_back):
    run = Background(run_vcluster, "restart", wait_timeout=LIMIT, storage={"storage_class": testbed.storage_class})
    poll(lambda: phase_of(open_store, "restart") == "Starting", "the create waiting for its pods")
    poll(lambda: control_plane_pod_created(host_resources, "restart"), "the control-plane pod")
    restart_api_server(testbed)  # ensure_running starts the node stand-in too: the pods get ready
    result = run.join()
    assert result["cluster"]["phase"] == "Running"


def test_a_create_cut_short_by_the_api_server_going_away_is_finished_by_a_rerun(
        run_vcluster, open_store, host_resources, testbed, pods_not_ready, api_server_back):
    options = dict(wait_timeout=3, storage={"storage_class": testbed.storage_class})
    run = Background(run_vcluster, "cut", **options)
    poll(lambda: phase_of(open_store, "cut") == "Starting", "the create waiting for its pods")
    poll(lambda: control_plane_pod_created(host_resources, "cut"), "the control-plane pod")
    testbed.stop_component("kube-apiserver")
    with pytest.raises(KubeWaitTimeout) as failed:
        run.join()
    assert "StatefulSet vc-cut/cut: not done after 3s" in str(failed.value)
    assert "could not be reached" in str(failed.value)
    with open_store() as store:
        status = store.find_cluster("cut").status
    assert status.phase == "Failed" and "StatefulSet vc-cut/cut" in status.message

    testbed.start_component("kube-apiserver")
    testbed.ensure_running()  # the node stand-in and whatever lost the API server
    finished = run_vcluster("cut", **dict(options, wait_timeout=LIMIT))
    assert finished["cluster"]["phase"] == "Running" and finished["changed"]
    with open_store() as store:
        events = store.list_events(finished["cluster"]["id"], type="Transition", limit=50)
        transitions = [event.metadata.get("to") for event in reversed(events)]
    assert transitions[-6:] == ["Starting", "Failed", "Provisioning", "Initializing", "Starting", "Running"]
    assert host_resources.get("StatefulSet", "cut", "vc-cut")["status"]["readyReplicas"] == 1


@pytest.fixture
def read_only_token(host_resources, kube_namespace, kube_client):
    """A bearer token of a service account that may read everything and write nothing."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": kube_namespace},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": kube_namespace},
               "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": kube_namespace}],
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": kube_namespace}}
    host_resources.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                          "metadata": {"name": "reader", "namespace": kube_namespace}})
    host_resources.apply(role)
    host_resources.apply(binding)
    token = service_account_token(kube_client, kube_namespace, "reader")
    yield f"system:serviceaccount:{kube_namespace}:reader", token
    host_resources.delete("ClusterRoleBinding", kube_namespace)
    host_resources.delete("ClusterRole", kube_namespace)


def test_rbac_denial_names_the_missing_permission(read_only_token, testbed, registry_path, host_resources,
                                                  run_vcluster, module_params):
    user, token = read_only_token
    params = module_params("denied", host=testbed.api_url, api_key=token, ca_cert=testbed.ca_path,
                           host_kubeconfig=None, storage={"storage_class": testbed.storage_class})
    try:
        with open_registry(registry_path) as store, pytest.raises(KubeApiError) as refused:
            run_module(params, store, False)
        assert refused.value.status == 403
        assert f'User "{user}" cannot patch resource "namespaces"' in str(refused.value)
        with open_registry(registry_path) as store:
            status = store.find_cluster("denied").status
        assert status.phase == "Failed" and 'cannot patch resource "namespaces"' in status.message
        assert host_resources.get("Namespace", "vc-denied") is None
    finally:
        run_vcluster("denied", state="absent")
