"""AWX objects without an AWX server: the credential types are valid AWX definitions, their injectors render as AWX
renders them, and the job templates' playbooks run through ansible-runner (AWX's job engine) from the installed
tarball with those environments against the testbed: a vCluster created and an external cluster imported through a
PostgreSQL registry, the audit rows naming the AWX user; a SQLite registry inside an AWX job refused up front."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import awx_support as awx
import pytest
import yaml
from jinja2 import meta, sandbox

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli
from tests.as_a_user.service_account import reader_token

pytestmark = pytest.mark.ecosystem

KEY = base64.b64encode(b"awx-job-test-key-0123456789abcde").decode()
CREDENTIAL_TYPES = ("proxmox_api", "registry", "host_cluster")
LEAKING = ("GPVE_", "K8S_AUTH_", "PROXMOX_", "KUBECONFIG", "JOB_ID", "AWX_HOST")


@pytest.fixture
def clean_environment(monkeypatch):
    """ansible-runner passes this process's environment on: only what a job gets may reach it."""
    import os
    for name in [n for n in os.environ if n.startswith(LEAKING)]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize("name", CREDENTIAL_TYPES)
def test_credential_types_are_valid_awx_definitions(name):
    definition = awx.credential_type(name)
    assert definition["kind"] == "cloud" and definition["name"].startswith("gpve ")
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    assert set(definition["inputs"].get("required", [])) <= set(fields)
    files = {label.split(".", 1)[1] for label in definition["injectors"].get("file", {})}
    jinja = sandbox.ImmutableSandboxedEnvironment()
    for variable, template in definition["injectors"].get("env", {}).items():
        assert variable.startswith("GPVE_") and not variable.startswith(awx.PROHIBITED_ENV), variable
        used = meta.find_undeclared_variables(jinja.parse(template))
        assert used <= set(fields) | {"tower"}, (variable, used)
        for label in ("tower.filename." + f for f in files):
            if label in template:
                assert label.rsplit(".", 1)[1] in files
    for field in fields.values():
        assert field["type"] in ("string", "boolean") and field["label"]
        if any(word in field["id"] for word in ("password", "secret", "key", "dsn")) and field["id"] != "api_token_id":
            assert field.get("secret") is True, field["id"]


def test_injectors_render_as_awx_does(tmp_path):
    env, args = awx.inject(awx.credential_type("proxmox_api"),
                           {"api_url": "https://pve:8006", "api_token_id": "ops@pve!ci", "api_token_secret": "s3cr3t"},
                           tmp_path)
    assert args == []
    assert env == {"GPVE_PROXMOX_API_URL": "https://pve:8006", "GPVE_PROXMOX_API_USER": "",
                   "GPVE_PROXMOX_API_PASSWORD": "", "GPVE_PROXMOX_API_TOKEN_ID": "ops@pve!ci",
                   "GPVE_PROXMOX_API_TOKEN_SECRET": "s3cr3t", "GPVE_PROXMOX_CA_PATH": "",
                   "GPVE_PROXMOX_VALIDATE_CERTS": "True"}
    env, _args = awx.inject(awx.credential_type("host_cluster"),
                            {"host": "https://k8s:6443", "api_key": "t", "ca_cert": "PEM", "skip_tls_verify": True},
                            tmp_path)
    assert Path(env["GPVE_HOST_CLUSTER_CA_CERT"]).read_text() == "PEM"
    assert (env["GPVE_HOST_CLUSTER_KUBECONFIG"], env["GPVE_HOST_CLUSTER_VALIDATE_CERTS"]) == ("", "False")


def test_a_missing_required_input_is_one_line_naming_it(tmp_path):
    with pytest.raises(awx.MissingInput) as caught:
        awx.inject(awx.credential_type("registry"), {"dsn": "postgresql://db/gpve"}, tmp_path)
    assert str(caught.value) == ("credential type 'gpve cluster registry': Encryption key (encryption_key) is required; "
                                 "fill it in the credential")


def test_configure_playbook_uses_awx_modules_for_every_object():
    playbook = awx.REPO / "playbooks" / "awx" / "configure.yml"
    text = playbook.read_text()
    for module in ("awx.awx.credential_type", "awx.awx.project", "awx.awx.inventory", "awx.awx.inventory_source",
                   "awx.awx.job_template"):
        assert module in text, module
    listed = subprocess.run([str(awx.REPO / ".venv/bin/ansible-playbook"), str(playbook), "--list-tasks", "-i",
                             "localhost,"], capture_output=True, text=True, check=False,
                            env=ansible_cli.ansible_env(tmp_path=awx.REPO / ".build"))
    assert listed.returncode == 0, listed.stderr
    templates = yaml.safe_load((awx.REPO / "playbooks" / "awx" / "job_templates.yml").read_text())["gpve_awx_job_templates"]
    assert {t["playbook"] for t in templates} == {p.name for p in awx.PROJECT_PLAYBOOKS.glob("*.yml")}
    assert {"k8s_vm_create.yml", "k8s_vm_scale.yml", "k8s_vm_upgrade.yml", "k8s_vm_delete.yml", "backup.yml",
            "vcluster_create.yml"} <= {t["playbook"] for t in templates}
    for template in templates:
        assert template["survey_spec"]["spec"], template["name"]


def registry_env(pg_database, tmp_path):
    env, _args = awx.inject(awx.credential_type("registry"), {"dsn": pg_database, "encryption_key": KEY}, tmp_path)
    return env


def audit_actors(dsn, cluster_name):
    with open_registry(dsn, encryption_key=KEY, environ={}) as store:
        cluster = store.find_cluster(cluster_name)
        assert cluster is not None, cluster_name
        return {entry.actor for entry in store.list_audit(cluster_id=cluster.id, limit=1000)}


def job_output(runner):
    return runner.stdout.read()


def test_vcluster_create_job_with_a_postgresql_registry(clean_environment, built_collection, testbed, pg_database,
                                                        tmp_path):
    private = tmp_path / "job"
    env = registry_env(pg_database, private)
    host_env, _args = awx.inject(awx.credential_type("host_cluster"),
                                 {"kubeconfig": Path(testbed.kubeconfig).read_text()}, private)
    env.update(host_env)
    spec = yaml.safe_dump({"storage": {"storage_class": testbed.storage_class}, "wait": False})
    try:
        runner = awx.run_job(private, "vcluster_create.yml", env, {"gpve_vcluster_name": "awx-vc",
                                                                   "gpve_vcluster_spec_yaml": spec},
                             built_collection.collections_dir)
        output = job_output(runner)
        assert runner.status == "successful", output[-3000:]
        assert audit_actors(pg_database, "awx-vc") == {"awx:alice job/42"}
        assert KEY not in output and "BEGIN" not in output
    finally:
        cleanup = ansible_cli.run_module("gpve_vcluster", {"name": "awx-vc", "state": "absent"}, tmp_path,
                                         env={**env, "GPVE_HOST_CLUSTER_KUBECONFIG": testbed.kubeconfig})
        assert not cleanup.get("failed"), cleanup.get("msg")


def test_external_import_job_with_awx_kubernetes_credential(clean_environment, built_collection, testbed, kube_client,
                                                            pg_database, tmp_path):
    token, cleanup = reader_token(kube_client)
    private = tmp_path / "job"
    env = registry_env(pg_database, private)
    env.update(awx.kubernetes_bearer_token({"host": testbed.api_url, "bearer_token": token, "verify_ssl": True,
                                            "ssl_ca_cert": Path(testbed.ca_path).read_text()}, private))
    try:
        runner = awx.run_job(private, "external_import.yml", env, {"cluster_name": "awx-ext"},
                             built_collection.collections_dir, user="bob", job_id=7)
        output = job_output(runner)
        assert runner.status == "successful", output[-3000:]
    finally:
        cleanup()
    assert audit_actors(pg_database, "awx-ext") == {"awx:bob job/7"}
    with open_registry(pg_database, encryption_key=KEY, environ={}) as store:
        cluster = store.find_cluster("awx-ext")
        assert (cluster.status.phase, cluster.spec["endpoint"]) == ("Running", testbed.api_url)
        assert cluster.spec["connection_config"]["auth_type"] == "token"
    assert token not in output


def test_a_sqlite_registry_inside_an_awx_job_fails_before_anything(clean_environment, built_collection, testbed,
                                                                   kube_client, tmp_path):
    from kubernetes import client

    private = tmp_path / "job"
    env, _args = awx.inject(awx.credential_type("host_cluster"), {"kubeconfig": Path(testbed.kubeconfig).read_text()},
                            private)
    runner = awx.run_job(private, "vcluster_create.yml", env, {"gpve_vcluster_name": "awx-sqlite"},
                         built_collection.collections_dir)
    output = job_output(runner)
    assert runner.status == "failed"
    assert ("registry: this AWX job (job 42) would keep the registry in a SQLite file inside its container, which is "
            "discarded when the job ends; set registry, or GPVE_REGISTRY") in output
    assert not list(private.rglob("registry.db")) and not list(private.rglob("registry.key"))
    names = [ns.metadata.name for ns in client.CoreV1Api(kube_client).list_namespace().items]
    assert "vc-awx-sqlite" not in names
