"""The modules log in with the variables kubernetes.core and community.proxmox users already set (K8S_AUTH_*,
PROXMOX_*), against the testbed's fakepve and kube-apiserver, with the precedence rule of
plugins/module_utils/connection_settings.py: task option > GPVE_* > ecosystem variable; token over password when
both come from the environment (a warning says so); both as task options an error.

Modules run as Ansible runs them: a separate Python process fed a JSON args file, with only the environment given.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.ecosystem

REPO = Path(__file__).resolve().parents[3]
COLLECTIONS = REPO / ".build" / "collections"
MODULES = COLLECTIONS / "ansible_collections" / "gpve" / "cluster" / "plugins" / "modules"
CONNECTION_PREFIXES = ("GPVE_PROXMOX_", "GPVE_HOST_CLUSTER_", "PROXMOX_", "K8S_AUTH_", "KUBECONFIG")
K8S_VM_SPEC = {
    "name": "envcreds",
    "control_plane": {"replicas": 1, "resources": {"memory": 1024, "disk_size": 20}},
    "workers": [{"name": "w", "replicas": 1, "resources": {"memory": 1024, "disk_size": 20}}],
    "network": {"vm_network": {"ip_allocation": "static", "ip_range": {"start": "10.20.0.60", "end": "10.20.0.70"},
                               "prefix": 24, "gateway": "10.20.0.1"}},
    "load_balancer": {"type": "external", "external_address": "api.envcreds.test"},
}


def run_module(name, args, environ, tmp_path, check_mode=True):
    """Run plugins/modules/<name>.py with args and a clean environment plus environ; its JSON answer and raw stdout."""
    path = tmp_path / f"args-{name}-{len(list(tmp_path.glob('args-*')))}.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check_mode)}))
    env = {key: value for key, value in os.environ.items() if not key.startswith(CONNECTION_PREFIXES)}
    env.update(environ, PYTHONPATH=str(COLLECTIONS), HOME=str(tmp_path))
    finished = subprocess.run([sys.executable, str(MODULES / f"{name}.py"), str(path)], capture_output=True, text=True,
                              env=env, cwd=str(tmp_path), timeout=600, check=False)
    try:
        return json.loads(finished.stdout), finished.stdout
    except ValueError:
        raise AssertionError(f"{name} printed no JSON (rc {finished.returncode}): {finished.stdout} {finished.stderr}")


def warnings_of(result):
    """The warning texts of a raw module answer (ansible-core 2.19 wraps each in a WarningSummary)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings") or []]


def proxmox_env(pve, **extra):
    environ = {"PROXMOX_HOST": pve.host, "PROXMOX_PORT": str(pve.port), "PROXMOX_USER": pve.user,
               "PROXMOX_CA_PATH": pve.ca_path}
    environ.update(extra)
    return environ


@pytest.fixture
def registry(tmp_path):
    return str(tmp_path / "registry.db")


def test_k8s_vm_logs_in_with_community_proxmox_password_variables(pve, tmp_path, registry):
    result, _out = run_module("gpve_k8s_vm", dict(K8S_VM_SPEC, registry=registry),
                              proxmox_env(pve, PROXMOX_PASSWORD=pve.password), tmp_path)
    assert result.get("failed") is not True, result.get("msg")
    assert [vm["name"] for vm in result["plan"]["vms"]] == ["envcreds-cp-1", "envcreds-w-1"]
    assert not warnings_of(result)


def test_a_token_beats_a_password_when_both_come_from_the_environment(pve, pve_control, tmp_path, registry):
    """The password is wrong: the run passing proves the token logged in, and no ticket was asked for."""
    user, _sep, token_name = pve.token_id.partition("!")
    environ = proxmox_env(pve, PROXMOX_USER=user, PROXMOX_PASSWORD="not-the-password", PROXMOX_TOKEN_ID=token_name,
                          PROXMOX_TOKEN_SECRET=pve.token_secret)
    mark = len(pve_control.requests())
    result, out = run_module("gpve_k8s_vm", dict(K8S_VM_SPEC, registry=registry), environ, tmp_path)
    assert result.get("failed") is not True, result.get("msg")
    assert warnings_of(result) == [
        "the API token from PROXMOX_TOKEN_SECRET is used; the password from PROXMOX_PASSWORD is ignored (task options "
        "beat the environment, and between two from the environment a token wins)"]
    assert not [r for r in pve_control.requests()[mark:] if r[1].endswith("/access/ticket")]
    assert pve.token_secret not in out and "not-the-password" not in out


def test_gpve_variables_beat_community_proxmox_ones_and_the_task_beats_both(pve, tmp_path, registry):
    environ = proxmox_env(pve, PROXMOX_HOST="pve.invalid", PROXMOX_PASSWORD="wrong",
                          GPVE_PROXMOX_API_URL=pve.url, GPVE_PROXMOX_API_PASSWORD="also-wrong")
    result, _out = run_module("gpve_k8s_vm", dict(K8S_VM_SPEC, registry=registry, api_password=pve.password),
                              environ, tmp_path)
    assert result.get("failed") is not True, result.get("msg")
    refused, _out = run_module("gpve_k8s_vm", dict(K8S_VM_SPEC, registry=registry), environ, tmp_path)
    assert refused["failed"] and "also-wrong" not in json.dumps(refused)
    assert "Proxmox refused the login of root@pam" in refused["msg"]


def test_both_credentials_as_task_options_stay_an_error(pve, tmp_path, registry):
    args = dict(K8S_VM_SPEC, registry=registry, api_url=pve.url, api_user=pve.user, api_password=pve.password,
                api_token_id=pve.token_id, api_token_secret=pve.token_secret, ca_path=pve.ca_path)
    result, _out = run_module("gpve_k8s_vm", args, {}, tmp_path)
    assert result["failed"] and result["msg"] == "parameters are mutually exclusive: api_password|api_token_secret"


def test_a_missing_setting_fails_before_any_write_naming_the_variable(pve, pve_control, tmp_path, registry):
    mark = len(pve_control.requests())
    result, _out = run_module("gpve_k8s_vm", dict(K8S_VM_SPEC, registry=registry),
                              {"PROXMOX_HOST": pve.host, "PROXMOX_PASSWORD": pve.password}, tmp_path, check_mode=False)
    assert result["failed"] and result["field"] == "api_user"
    assert result["msg"] == ("api_user: api_password (from PROXMOX_PASSWORD) needs the user (user@realm): set api_user, "
                             "GPVE_PROXMOX_API_USER or PROXMOX_USER")
    assert pve_control.requests()[mark:] == [] and not Path(registry).exists()


def test_cluster_info_reads_proxmox_variables_only_for_drift(pve, tmp_path, registry):
    # A password and a token in the environment, no address: a plain query does not care.
    plain, _out = run_module("gpve_cluster_info", {"registry": registry},
                             {"PROXMOX_PASSWORD": "p", "PROXMOX_TOKEN_SECRET": "t"}, tmp_path)
    assert plain.get("failed") is not True, plain.get("msg")
    drift, _out = run_module("gpve_cluster_info", {"registry": registry, "drift": True},
                             proxmox_env(pve, PROXMOX_PASSWORD=pve.password, PROXMOX_VALIDATE_CERTS="yes"), tmp_path)
    assert drift.get("failed") is not True, drift.get("msg")


# The host cluster: gpve_vcluster in check mode reads the testbed's API server as the given identity.

def vcluster_args(registry, testbed, **extra):
    return dict({"name": "envcreds", "registry": registry, "storage": {"storage_class": testbed.storage_class}}, **extra)


def assert_planned(result):
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] and {o["action"] for o in result["objects"]} == {"created"}


def test_vcluster_reaches_the_host_cluster_through_k8s_auth_kubeconfig(testbed, tmp_path, registry):
    result, _out = run_module("gpve_vcluster", vcluster_args(registry, testbed),
                              {"K8S_AUTH_KUBECONFIG": testbed.kubeconfig}, tmp_path)
    assert_planned(result)


@pytest.fixture
def bearer_token(kube_client, kube_namespace):
    """A token of a ServiceAccount bound to cluster-admin, as AWX's Kubernetes bearer-token credential holds one
    (a bound token from TokenRequest)."""
    from kubernetes import client

    from tests.testbed.kube import service_account_token

    core, rbac = client.CoreV1Api(kube_client), client.RbacAuthorizationV1Api(kube_client)
    core.create_namespaced_service_account(kube_namespace, {"metadata": {"name": "awx"}})
    binding = f"{kube_namespace}-awx"
    rbac.create_cluster_role_binding({
        "metadata": {"name": binding},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "awx", "namespace": kube_namespace}]})
    try:
        yield service_account_token(kube_client, kube_namespace, "awx")
    finally:
        rbac.delete_cluster_role_binding(binding)


def test_k8s_auth_host_and_token_beat_a_kubeconfig_from_the_environment(testbed, tmp_path, registry, bearer_token):
    environ = {"K8S_AUTH_HOST": testbed.api_url, "K8S_AUTH_API_KEY": bearer_token,
               "K8S_AUTH_SSL_CA_CERT": testbed.ca_path, "K8S_AUTH_VERIFY_SSL": "true",
               "K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig")}
    result, out = run_module("gpve_vcluster", vcluster_args(registry, testbed), environ, tmp_path)
    assert_planned(result)
    assert any("the host address from K8S_AUTH_HOST is used; the kubeconfig from K8S_AUTH_KUBECONFIG is ignored" in w
               for w in warnings_of(result))
    assert bearer_token not in out


def test_k8s_auth_client_certificate_files(testbed, tmp_path, registry):
    config = yaml.safe_load(Path(testbed.kubeconfig).read_text())
    user = config["users"][0]["user"]
    files = {}
    for key, name in (("client-certificate", "K8S_AUTH_CERT_FILE"), ("client-key", "K8S_AUTH_KEY_FILE")):
        if user.get(key):
            files[name] = str(Path(testbed.kubeconfig).parent / user[key])
        else:
            path = tmp_path / f"{key}.pem"
            path.write_bytes(base64.b64decode(user[f"{key}-data"]))
            path.chmod(0o600)
            files[name] = str(path)
    environ = dict(files, K8S_AUTH_HOST=testbed.api_url, K8S_AUTH_SSL_CA_CERT=testbed.ca_path)
    result, _out = run_module("gpve_vcluster", vcluster_args(registry, testbed), environ, tmp_path)
    assert_planned(result)


def test_a_token_without_an_address_names_the_variable(testbed, tmp_path, registry):
    result, _out = run_module("gpve_vcluster", vcluster_args(registry, testbed), {"K8S_AUTH_API_KEY": "t0k3n"}, tmp_path)
    assert result["failed"] and result["field"] == "host"
    assert result["msg"] == ("host: K8S_AUTH_API_KEY needs the API server address: set host, GPVE_HOST_CLUSTER_HOST or "
                             "K8S_AUTH_HOST")
    assert "t0k3n" not in json.dumps(result)
