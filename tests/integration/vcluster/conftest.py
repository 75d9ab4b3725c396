"""Fixtures for the vCluster tests on the testbed's real API server.

These tests run on the stand-in testbed (tests/testbed/testbed.py): the syncer's and k3s's
images cannot be had here, so on real nodes a pod with them never starts; the stand-in
reports it Running. test_vcluster_real_control_plane.py runs the control plane without the
syncer on the real nodes (it defines ``testbed`` as the real one for its module).

    registry_path     a fresh SQLite registry for the test (its key file is generated beside it)
    host_resources    kube.resources.Resources on the testbed as its admin
    run_vcluster      run_vcluster(name, **options) -> result: the module's logic in this process
    ansible_vcluster  ansible_vcluster(args, check=False, diff=False) -> result: the real module through ansible
    open_store        open_store() -> the registry Store of registry_path (close it, or use with)
    module_params     module_params(name, **options) -> the full parameter dict the module would pass
    run_ansible       run_ansible(args, tmp_path, host_kubeconfig, registry) -> result (a function, any scope)
    assert_fences     assert_fences(host, namespace, name, node_ports): the isolation objects of every host mode
    process_status    process_status(container_id) -> /proc/<pid>/status fields of a container's process on a real node
    own_seccomp_filters  own_seccomp_filters(status) -> seccomp filters a process has beyond its parent's (its shim's)

Every vCluster a test creates through these is deleted (state=absent) after the test.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import isolation
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import run_module
from tests.testbed.fixtures import use_standin_testbed

globals().update(use_standin_testbed())

REPO = Path(__file__).resolve().parents[3]
MODULE_DEFAULTS = dict(namespace=None, state="present", labels=None, annotations=None, kubernetes_version=None,
                       distro=None, isolation_mode=None, control_plane=None, networking=None, storage=None,
                       resources=None, sync=None, plugins=None, image_registry=None, pki=None, kubeconfig_dest=None,
                       kubeconfig_server=None, wait=True, wait_timeout=120, keep_pvc=False, host_context=None,
                       host=None, api_key=None, validate_certs=True, ca_cert=None)


@pytest.fixture
def registry_path(tmp_path):
    return str(tmp_path / "registry.db")


@pytest.fixture
def open_store(registry_path):
    return lambda: open_registry(registry_path)


@pytest.fixture
def module_params(registry_path):
    return lambda name, **options: dict(MODULE_DEFAULTS, name=name, registry=registry_path, **options)


@pytest.fixture
def host_resources(testbed):
    connection = connect(host_kubeconfig=testbed.kubeconfig)
    yield Resources(connection)
    connection.close()


@pytest.fixture
def run_vcluster(testbed, registry_path):
    """Run the module's logic in-process; vClusters it created are deleted at the end."""
    created = {}

    def run(name, check_mode=False, **options):
        params = dict(MODULE_DEFAULTS, name=name, host_kubeconfig=testbed.kubeconfig, registry=registry_path)
        params.update(options)
        with open_registry(registry_path) as store:
            result = run_module(params, store, check_mode)
        if params["state"] != "absent" and not check_mode:
            created[name] = params
        return result

    yield run
    for name, params in created.items():
        with open_registry(registry_path) as store:
            run_module(dict(params, state="absent", wait=True), store, False)


def run_ansible(args, tmp_path, host_kubeconfig, registry, check=False, diff=False):
    """gpve.cluster.gpve_vcluster through ansible (ad-hoc, local connection); the task result as a dict."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build/collections"),
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_NOCOLOR="1",
               GPVE_HOST_CLUSTER_KUBECONFIG=host_kubeconfig, GPVE_REGISTRY=registry)
    interpreter = str(REPO / ".venv/bin/python")
    command = [str(REPO / ".venv/bin/ansible"), "localhost", "-c", "local", "-i", "localhost,",
               "-e", f"ansible_python_interpreter={interpreter}", "-m", "gpve.cluster.gpve_vcluster",
               "-a", json.dumps(args)]
    command += ["--check"] if check else []
    command += ["--diff"] if diff else []
    finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    try:
        output = json.loads(finished.stdout)
    except ValueError:
        raise AssertionError(f"ansible did not answer in JSON:\n{finished.stdout}\n{finished.stderr}") from None
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture
def ansible_vcluster(testbed, registry_path, tmp_path):
    """Run gpve.cluster.gpve_vcluster through ansible (run_ansible); every vCluster it named is deleted after."""
    names = set()

    def run(args, check=False, diff=False):
        names.add(args["name"])
        return run_ansible(args, tmp_path, testbed.kubeconfig, registry_path, check, diff)

    yield run
    for name in names:
        run({"name": name, "state": "absent"})


def assert_fences(host, namespace, name, node_ports):
    """The ResourceQuota (counted by the host), LimitRange and default NetworkPolicy of every host isolation mode."""
    quota = host.get("ResourceQuota", f"{name}-quota", namespace)
    expected = dict(isolation.QUOTA, **{"services.nodeports": node_ports})
    assert quota["spec"]["hard"] == expected
    assert set(quota["status"]["hard"]) == set(expected)
    assert quota["status"]["used"]["count/pods"] == "1" and quota["status"]["used"]["count/persistentvolumeclaims"] == "1"
    limits = host.get("LimitRange", f"{name}-limits", namespace)["spec"]["limits"]
    assert limits == [{"type": "Container", "default": isolation.CONTAINER_DEFAULTS,
                       "defaultRequest": isolation.CONTAINER_DEFAULT_REQUESTS}]
    policy = host.get("NetworkPolicy", f"{name}-isolation", namespace)["spec"]
    assert policy["podSelector"] == {} and policy["policyTypes"] == ["Ingress", "Egress"]
    assert {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(isolation.PRIVATE_RANGES)}}]} in policy["egress"]


def process_status(container_id):
    """/proc/<pid>/status fields of the container's process, found by the container id in its cgroup path (the real
    nodes are systemd-nspawn machines on this host: their processes are in its /proc)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if container_id not in (proc / "cgroup").read_text(encoding="utf-8"):
                continue
            fields = _status_fields(proc.name)
        except OSError:
            continue
        if not fields.get("Name", "").startswith(("runc", "containerd-shim")):
            return fields
    raise AssertionError(f"no process of container {container_id} in /proc")


def own_seccomp_filters(status):
    """How many seccomp filters the process has beyond its parent's: its containerd shim, a process of the node's
    machine outside any container, under the filters systemd-nspawn gives every process of the machine."""
    return int(status["Seccomp_filters"]) - int(_status_fields(status["PPid"])["Seccomp_filters"])


def _status_fields(pid):
    lines = (Path("/proc") / str(pid) / "status").read_text(encoding="utf-8").splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)
