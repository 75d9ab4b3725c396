"""gpve_kubeconfig against the testbed: a one-hour kubeconfig signed with the stored CA works and says so; without a
stored CA, auto takes the CSR API (the testbed's current Kubernetes honours expirationSeconds): the controller manager
signs a one-hour certificate that works; a one-hour ServiceAccount token (TokenRequest) works and its exp says so;
records and events. (A signer that ignores the expiry, Kubernetes before 1.22, cannot be run here: service tests
cover the refusal.)"""

from __future__ import annotations

import base64
import datetime
import json
import os
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID
from kubernetes import client, config

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli
from tests.as_a_user.testbed_cluster import admin_kubeconfig

pytestmark = pytest.mark.external


@pytest.fixture
def registry_path(tmp_path):
    return str(tmp_path / "registry.db")


def _register(store, testbed, name, cluster_type, with_ca):
    spec = ({"kubernetes_version": testbed.k8s_version.lstrip("v"), "isolation_mode": "namespace"}
            if cluster_type == "vcluster"
            else {"endpoint": testbed.api_url})
    cluster = store.create_cluster(name, cluster_type, spec=spec)
    path = ("Provisioning", "Initializing", "Starting", "Running") if cluster_type == "vcluster" else ("Connecting", "Running")
    for phase in path:
        lifecycle.transition(store, cluster.id, phase, "Seeded", endpoint=testbed.api_url)
    store.put_credential(cluster.id, "kubeconfig", admin_kubeconfig(testbed))
    if with_ca:
        pki = Path(testbed.ca_path).parent
        store.put_credential(cluster.id, "ca", (pki / "ca.crt").read_text() + (pki / "ca.key").read_text())
    return cluster.id


@pytest.fixture
def vcluster_with_ca(testbed, registry_path):
    """A virtual cluster record whose stored CA is the one the testbed API server trusts for clients."""
    with open_registry(registry_path, actor="kubeconfig-tests", environ={}) as store:
        return _register(store, testbed, "vc-team", "vcluster", with_ca=True)


@pytest.fixture
def external_without_ca(testbed, registry_path):
    with open_registry(registry_path, actor="kubeconfig-tests", environ={}) as store:
        return _register(store, testbed, "ext-tb", "external", with_ca=False)


def issued_record(registry_path, cluster_id):
    """(the cluster's one issued-* credential, its text, its KubeconfigIssued events); the issue is audited."""
    with open_registry(registry_path, environ={}) as store:
        issued = [info for info in store.list_credentials(cluster_id=cluster_id) if info.type.startswith("issued-")]
        assert len(issued) == 1, issued
        text = store.get_credential(cluster_id, issued[0].type).text
        events = [e for e in store.list_events(cluster_id=cluster_id) if e.reason == "KubeconfigIssued"]
        assert any(a.entity == "credential" and a.entity_id.endswith(issued[0].type) for a in store.list_audit(cluster_id=cluster_id))
    return issued[0], text, events


def kubeconfig(registry_path, tmp_path, check_mode=False, **args):
    return ansible_cli.run_module("gpve_kubeconfig", dict(args, registry=registry_path), tmp_path, check_mode=check_mode)


def client_cert(path):
    document = yaml.safe_load(Path(path).read_text())
    data = document["users"][0]["user"]["client-certificate-data"]
    return x509.load_pem_x509_certificate(base64.b64decode(data))


def test_one_hour_kubeconfig_works_and_its_certificate_says_so(testbed, vcluster_with_ca, registry_path, tmp_path):
    dest = tmp_path / "kube" / "team.yaml"
    before = datetime.datetime.now(datetime.timezone.utc)
    result = kubeconfig(registry_path, tmp_path, name="vc-team", expiry_hours=1, dest=str(dest))
    after = datetime.datetime.now(datetime.timezone.utc)
    assert not result.get("failed"), result.get("msg")
    assert (result["method"], result["context"], result["server"]) == ("ca", "gpve_vc-team", testbed.api_url)
    assert "kubeconfig" not in result and "BEGIN" not in json.dumps(result)
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600

    cert = client_cert(dest)
    not_after = cert.not_valid_after_utc
    assert before + datetime.timedelta(hours=1) - datetime.timedelta(seconds=1) <= not_after
    assert not_after <= after + datetime.timedelta(hours=1)
    assert cert.subject.rfc4514_string() == "CN=gpve-admin,O=system:masters"
    assert result["expires_at"] == not_after.isoformat()

    api = config.new_client_from_config(str(dest))
    try:
        names = [ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items]
        assert "kube-system" in names
        review = client.AuthorizationV1Api(api).create_self_subject_access_review(
            {"spec": {"resourceAttributes": {"verb": "create", "resource": "namespaces"}}})
        assert review.status.allowed is True
    finally:
        api.close()

    issued, text, events = issued_record(registry_path, vcluster_with_ca)
    record = json.loads(text)
    assert issued.expires_at == not_after
    assert (record["user"], record["groups"], record["method"]) == ("gpve-admin", ["system:masters"], "ca")
    assert len(events) == 1 and events[0].metadata["serial"] == result["serial"]


def test_returned_kubeconfig_with_custom_user_and_context(testbed, vcluster_with_ca, registry_path, tmp_path):
    result = kubeconfig(registry_path, tmp_path, name="vc-team", user="auditor", groups=["auditors", "qa"],
                        context_name="audit", server=testbed.api_url)
    document = yaml.safe_load(result["kubeconfig"])
    assert document["current-context"] == "audit"
    assert document["clusters"][0]["cluster"]["certificate-authority-data"]
    path = tmp_path / "returned.yaml"
    path.write_text(result["kubeconfig"])
    subject = client_cert(path).subject
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["auditor"]
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["auditors", "qa"]
    api = config.new_client_from_config(str(path))
    try:
        with pytest.raises(client.ApiException) as denied:
            client.CoreV1Api(api).list_namespace()
        assert denied.value.status == 403 and 'User \\"auditor\\"' in denied.value.body
    finally:
        api.close()


def test_files_beside_dest_when_not_embedded(testbed, vcluster_with_ca, registry_path, tmp_path):
    dest = tmp_path / "files" / "config"
    result = kubeconfig(registry_path, tmp_path, name="vc-team", dest=str(dest), embed_certs=False)
    assert not result.get("failed"), result.get("msg")
    user = yaml.safe_load(dest.read_text())["users"][0]["user"]
    assert set(user) == {"client-certificate", "client-key"}
    for path in (user["client-certificate"], user["client-key"]):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    api = config.new_client_from_config(str(dest))
    try:
        assert client.CoreV1Api(api).list_namespace().items
    finally:
        api.close()


def _gpve_csrs(kube_client):
    return [csr.metadata.name for csr in client.CertificatesV1Api(kube_client).list_certificate_signing_request().items
            if csr.metadata.name.startswith("gpve-")]


def test_without_a_ca_auto_takes_the_csr_api_and_its_one_hour_certificate_works(
        testbed, kube_client, external_without_ca, registry_path, tmp_path):
    dest = tmp_path / "csr.yaml"
    before = datetime.datetime.now(datetime.timezone.utc)
    result = kubeconfig(registry_path, tmp_path, name="ext-tb", expiry_hours=1, dest=str(dest))
    assert not result.get("failed"), result.get("msg")
    assert result["method"] == "csr"
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert _gpve_csrs(kube_client) == [], "the request object is deleted after signing"
    written = yaml.safe_load(dest.read_text())["users"][0]["user"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(written["client-certificate-data"]))
    ca = x509.load_pem_x509_certificate(Path(testbed.ca_path).read_bytes())
    cert.verify_directly_issued_by(ca)
    lifetime = cert.not_valid_after_utc - before
    assert datetime.timedelta(minutes=55) <= lifetime <= datetime.timedelta(hours=1, minutes=5), lifetime
    binding = client.RbacAuthorizationV1Api(kube_client).read_cluster_role_binding("gpve:cluster-admins")
    assert (binding.role_ref.name, binding.subjects[0].kind, binding.subjects[0].name) == (
        "cluster-admin", "Group", "gpve:cluster-admins")
    api = config.new_client_from_config(str(dest))
    try:
        assert "kube-system" in [ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items]
    finally:
        api.close()
    masters = kubeconfig(registry_path, tmp_path, name="ext-tb", method="csr", groups=["system:masters"])
    assert masters["failed"] is True and "the CSR API refuses client certificates for system:masters" in masters["msg"]


def token_of(path):
    return yaml.safe_load(Path(path).read_text())["users"][0]["user"]["token"]


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def gpve_accounts(kube_client):
    """Removes the ServiceAccounts and bindings the token method created (the testbed is shared)."""
    names = []
    yield names
    core, rbac = client.CoreV1Api(kube_client), client.RbacAuthorizationV1Api(kube_client)
    for name in names:
        for delete in (lambda: rbac.delete_cluster_role_binding(f"gpve:sa:{name}"),
                       lambda: core.delete_namespaced_service_account(name, "kube-system")):
            try:
                delete()
            except client.ApiException as exc:
                if exc.status != 404:
                    raise


def test_one_hour_service_account_token_works_and_its_exp_says_so(
        testbed, kube_client, external_without_ca, registry_path, tmp_path, gpve_accounts):
    """method token (what auto takes before 1.22, where a CSR's expiry is ignored): TokenRequest, exp one hour."""
    gpve_accounts.append("gpve-admin")
    dest = tmp_path / "token.yaml"
    before = datetime.datetime.now(datetime.timezone.utc)
    result = kubeconfig(registry_path, tmp_path, name="ext-tb", expiry_hours=1, method="token", dest=str(dest))
    after = datetime.datetime.now(datetime.timezone.utc)
    assert not result.get("failed"), result.get("msg")
    assert (result["method"], result["service_account"], result["bound_role"]) == ("token", "kube-system/gpve-admin",
                                                                                   "cluster-admin")
    assert result["user"] == "system:serviceaccount:kube-system:gpve-admin"
    assert token_of(dest) not in json.dumps(result), "the token is in dest only"
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert _gpve_csrs(kube_client) == [], "no CertificateSigningRequest for a token"

    claims = jwt_claims(token_of(dest))
    expires = datetime.datetime.fromtimestamp(claims["exp"], datetime.timezone.utc)
    assert before.replace(microsecond=0) + datetime.timedelta(hours=1) - datetime.timedelta(seconds=1) <= expires
    assert expires <= after + datetime.timedelta(hours=1)
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["sub"] == "system:serviceaccount:kube-system:gpve-admin"
    assert result["expires_at"] == expires.isoformat()

    api = config.new_client_from_config(str(dest))
    try:
        assert "kube-system" in [ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items]
    finally:
        api.close()

    issued, text, events = issued_record(registry_path, external_without_ca)
    record = json.loads(text)
    assert issued.expires_at == expires and token_of(dest) not in text
    assert (record["method"], record["service_account"], record["serial"]) == ("token", "kube-system/gpve-admin", result["serial"])
    assert len(events) == 1 and "issued by token" in events[0].message


def test_token_without_binding_and_chosen_groups_refused(
        testbed, kube_client, external_without_ca, registry_path, tmp_path, gpve_accounts):
    gpve_accounts.append("reader")
    refused = kubeconfig(registry_path, tmp_path, name="ext-tb", method="token", user="reader", groups=["auditors"])
    assert refused["failed"] is True and "groups: a ServiceAccount token (method token) carries" in refused["msg"]
    dest = tmp_path / "reader.yaml"
    result = kubeconfig(registry_path, tmp_path, name="ext-tb", method="token", user="reader", groups=[], dest=str(dest))
    assert not result.get("failed"), result.get("msg")
    assert result["bound_role"] is None
    api = config.new_client_from_config(str(dest))
    try:
        with pytest.raises(client.ApiException) as denied:
            client.CoreV1Api(api).list_namespace()
        assert denied.value.status == 403 and "system:serviceaccount:kube-system:reader" in denied.value.body
    finally:
        api.close()


def test_check_mode_without_a_ca_creates_nothing(testbed, kube_client, external_without_ca, registry_path, tmp_path):
    result = kubeconfig(registry_path, tmp_path, check_mode=True, name="ext-tb", user="never-made")
    assert result["changed"] is True and result["method"] == "csr"
    assert _gpve_csrs(kube_client) == []
    token = kubeconfig(registry_path, tmp_path, check_mode=True, name="ext-tb", user="never-made", method="token")
    assert token["changed"] is True and token["method"] == "token"
    with pytest.raises(client.ApiException) as missing:
        client.CoreV1Api(kube_client).read_namespaced_service_account("never-made", "kube-system")
    assert missing.value.status == 404


@pytest.mark.parametrize("hours", [0, 169])
def test_expiry_bounds(vcluster_with_ca, registry_path, tmp_path, hours):
    result = kubeconfig(registry_path, tmp_path, name="vc-team", expiry_hours=hours)
    assert result["failed"] is True and "expiry_hours: must be a whole number of hours from 1 to 168" in result["msg"]


def test_check_mode_mints_nothing(vcluster_with_ca, registry_path, tmp_path):
    dest = tmp_path / "never.yaml"
    result = kubeconfig(registry_path, tmp_path, check_mode=True, name="vc-team", dest=str(dest))
    assert result["changed"] is True and result["method"] == "ca" and not dest.exists()
    with open_registry(registry_path, environ={}) as store:
        assert not [i for i in store.list_credentials(cluster_id=vcluster_with_ca) if i.type.startswith("issued-")]


def test_default_expiry_is_a_day(vcluster_with_ca, registry_path, tmp_path):
    result = kubeconfig(registry_path, tmp_path, name="vc-team")
    expires = datetime.datetime.fromisoformat(result["expires_at"])
    left = expires - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(hours=23, minutes=50) < left <= datetime.timedelta(hours=24)
