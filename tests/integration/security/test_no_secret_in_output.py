"""Every kind of secret set at once, ansible-playbook and ansible-inventory run at -vvv: the whole output (stdout and
stderr, failed tasks included) is searched for each secret, and none is there.

The registry is the testbed's PostgreSQL through a DSN with a password (the throwaway server trusts loopback, so the
password is carried but not needed); the cluster is the testbed's API server, Proxmox its fakepve."""

from __future__ import annotations

import base64
import json
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from ansible_collections.gpve.cluster.plugins.module_utils import crypto
from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.external


def _secret(label):
    return f"{label}-{secrets.token_hex(8)}"


def with_password(dsn, password):
    parts = urlsplit(dsn)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@pytest.fixture
def secret_values(testbed, pve):
    admin = yaml.safe_load(Path(testbed.kubeconfig).read_text())["users"][0]["user"]
    key_pem = admin.get("client-key-data") or base64.b64encode(Path(admin["client-key"]).read_bytes()).decode()
    return {
        "dsn password": _secret("pg"),
        "encryption key": base64.b64encode(crypto.generate_key()).decode(),
        "retired key": base64.b64encode(crypto.generate_key()).decode(),
        "exec env": _secret("exec"),
        "webhook secret": _secret("hook"),
        "credential content": _secret("cred"),
        "proxmox password": pve.password,
        "proxmox password in URL": _secret("urlpw"),
        "s3 access key": _secret("AKIA"),
        "s3 secret key": _secret("s3"),
        "host api key": _secret("token"),
        "kubeconfig client key": key_pem[20:80],
    }


def playbook(testbed, pve, registry, values, tmp_path):
    """The playbook and the vars file it loads: secrets are variables, as a vault holds them (ansible-core quotes a
    failed task's source lines, so a secret written into a task would be shown by Ansible itself)."""
    names = {label: "vault_" + label.replace(" ", "_") for label in values}
    (tmp_path / "vault.yml").write_text(yaml.safe_dump(dict({names[label]: value for label, value in values.items()},
                                                            vault_registry=registry)))
    vault = {label: "{{ %s }}" % name for label, name in names.items()}
    common = {"registry": "{{ vault_registry }}"}
    tasks = [
        {"name": "registry", "gpve.cluster.gpve_registry": dict(
            common, encryption_key=vault["encryption key"], retired_keys=[vault["retired key"]])},
        {"name": "import", "gpve.cluster.gpve_external_cluster": dict(
            common, name="lab", kubeconfig="{{ lookup('ansible.builtin.file', '%s') }}" % testbed.kubeconfig)},
        {"name": "exec import", "ignore_errors": True, "gpve.cluster.gpve_external_cluster": dict(
            common, name="execd", connection={"endpoint": testbed.api_url, "auth": {
                "type": "exec", "exec": {"command": "/bin/false", "env": {"GPVE_TOKEN": vault["exec env"]}}}})},
        {"name": "webhook", "gpve.cluster.gpve_webhook": dict(
            common, name="hooks", url="http://127.0.0.1:9/hook", secret=vault["webhook secret"])},
        {"name": "credential", "gpve.cluster.gpve_cluster_credential": dict(common, name="lab", type="custom-token",
                                                                            content=vault["credential content"])},
        {"name": "kubeconfig", "gpve.cluster.gpve_kubeconfig": dict(common, name="lab", dest=str(tmp_path / "lab.yaml"),
                                                                    expiry_hours=1)},
        {"name": "k8s vm plan", "check_mode": True, "ignore_errors": True, "gpve.cluster.gpve_k8s_vm": dict(
            common, name="vvv", api_url=pve.url, api_user=pve.user, api_password=vault["proxmox password"],
            ca_path=pve.ca_path, control_plane={"replicas": 1}, workers=[],
            load_balancer={"type": "external", "external_address": "api.vvv.example"},
            network={"vm_network": {"ip_allocation": "dhcp"}})},
        {"name": "proxmox URL with a password", "ignore_errors": True, "gpve.cluster.gpve_k8s_vm": dict(
            common, name="vvv", api_url="https://root:{{ vault_proxmox_password_in_URL }}@%s:%s" % (pve.host, pve.port),
            api_user=pve.user, api_password=vault["proxmox password"])},
        {"name": "s3 backup", "ignore_errors": True, "gpve.cluster.gpve_cluster_backup": dict(
            common, cluster="lab", type="resources", storage={
                "type": "s3", "bucket": "gpve", "endpoint_url": "http://127.0.0.1:9",
                "access_key": vault["s3 access key"], "secret_key": vault["s3 secret key"]})},
        {"name": "vcluster with a bad token", "ignore_errors": True, "gpve.cluster.gpve_vcluster": dict(
            common, name="vvv", host=testbed.api_url, api_key=vault["host api key"], ca_cert=testbed.ca_path,
            wait_timeout=30)},
        {"name": "phase", "gpve.cluster.gpve_cluster_phase": dict(common, name="lab")},
        {"name": "upgrade plan of an external cluster", "ignore_errors": True, "gpve.cluster.gpve_k8s_upgrade_plan": dict(
            common, name="lab", target_version="1.37.2")},
        # The token is the module's product: the kubeadm playbook runs this task no_log, as here.
        {"name": "join token", "no_log": True, "gpve.cluster.gpve_kubeadm_token": dict(kubeconfig=testbed.kubeconfig)},
        {"name": "a refused registry scheme", "ignore_errors": True, "gpve.cluster.gpve_cluster_info": {
            "registry": "mysql://root:{{ vault_dsn_password }}@db/gpve"}},
    ]
    path = tmp_path / "secrets.yml"
    path.write_text(yaml.safe_dump([{"name": "every secret", "hosts": "localhost", "gather_facts": False,
                                     "vars_files": [str(tmp_path / "vault.yml")], "tasks": tasks}], sort_keys=False))
    return path


def test_no_secret_appears_in_a_vvv_run_of_every_module_and_the_inventory(testbed, pve, pg_database, secret_values,
                                                                          tmp_path):
    registry = with_password(pg_database, secret_values["dsn password"])
    path = playbook(testbed, pve, registry, secret_values, tmp_path)
    env = {"GPVE_SECURITY_ENCRYPTION_KEY": secret_values["encryption key"], "ANSIBLE_PYTHON_INTERPRETER": ansible_cli.sys.executable}
    run = ansible_cli.run(["ansible-playbook", "-vvv", "-i", "localhost,", "-c", "local", str(path)], tmp_path, check=False,
                          **env)
    assert "lab" in run.stdout and "ok=" in run.stdout, run.stdout[-3000:]
    assert "failed=0" in run.stdout, run.stdout[-3000:]  # the failing tasks are ignored, none fails the play
    source = tmp_path / "gpve.yml"
    source.write_text(yaml.safe_dump({"plugin": "gpve.cluster.gpve", "registry": registry}))
    inventory = ansible_cli.run(["ansible-inventory", "-vvv", "-i", str(source), "--list"], tmp_path, check=False, **env)
    listed = json.loads(inventory.stdout[inventory.stdout.index("\n{") + 1:])  # -vvv prints its banner first
    assert "cluster_lab" in json.dumps(listed), inventory.stdout[-2000:] + inventory.stderr[-2000:]
    output = "\n".join((run.stdout, run.stderr, inventory.stdout, inventory.stderr))
    leaked = [label for label, value in secret_values.items() if value in output]
    assert not leaked, [(label, output[max(0, output.index(secret_values[label]) - 300):
                                       output.index(secret_values[label]) + 100]) for label in leaked]
    assert "***" in output  # the DSN is shown redacted, not dropped
    assert not re.findall(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b", output)  # no bootstrap token (id.secret)
