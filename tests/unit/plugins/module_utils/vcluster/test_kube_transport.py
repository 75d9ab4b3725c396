"""kube.connect and its transport: what they take from a kubeconfig, and the one thing left to the kubernetes library."""

from __future__ import annotations

import base64
import datetime
import json
import os
import sys
import tempfile

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.kube import transport
from ansible_collections.gpve.cluster.plugins.module_utils.kube.auth_provider import AuthProviderTransport
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConfigError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys

pytestmark = pytest.mark.vcluster

NOW = datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture(scope="module")
def identity():
    ca = certs.new_ca("kubernetes", NOW, datetime.timedelta(days=30))
    client = certs.issue(certs.CertSpec("admin", ("system:masters",), usages=frozenset({certs.CLIENT})), ca, NOW,
                         datetime.timedelta(days=1))
    return certs.cert_pem(ca.cert), certs.cert_pem(client.cert), keys.private_key_pem(client.key)


def test_inline_client_certificate_leaves_no_file_behind(identity, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ca, cert, key = identity
    config = kubeconfig.build_kubeconfig("https://127.0.0.1:6443", "c", "u", ca_pem=ca, client_cert_pem=cert,
                                         client_key_pem=key)
    made = transport.from_kubeconfig(config)
    assert made.server == "https://127.0.0.1:6443" and made.token is None
    assert list(tmp_path.iterdir()) == []


def test_relative_file_paths_are_read_next_to_the_kubeconfig(identity, tmp_path):
    ca, cert, key = identity
    for name, text in (("ca.crt", ca), ("admin.crt", cert), ("admin.key", key), ("token", "t0ken\n")):
        (tmp_path / name).write_text(text)
    config = {"clusters": [{"name": "c", "cluster": {"server": "https://k8s.example.com", "certificate-authority": "ca.crt"}}],
              "users": [{"name": "u", "user": {"client-certificate": "admin.crt", "client-key": "admin.key"}},
                        {"name": "t", "user": {"tokenFile": "token"}}],
              "contexts": [{"name": "cert", "context": {"cluster": "c", "user": "u"}},
                           {"name": "token", "context": {"cluster": "c", "user": "t"}}],
              "current-context": "cert"}
    path = tmp_path / "config"
    path.write_text(kubeconfig.dump_kubeconfig(config))
    assert connect(host_kubeconfig=str(path)).server == "https://k8s.example.com"
    assert connect(host_kubeconfig=str(path), host_context="token").token == "t0ken"


def _config(user, server="https://k8s.example.com"):
    return {"clusters": [{"name": "c", "cluster": {"server": server}}],
            "users": [{"name": "u", "user": user}], "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "x"}


def _plugin(tmp_path, status, exit_code=0):
    """An exec plugin that records what it was given and prints an ExecCredential with status."""
    script = tmp_path / "plugin.py"
    script.write_text("import json, os, sys\n"
                      f"open({str(tmp_path / 'seen.json')!r}, 'w').write(json.dumps(dict(args=sys.argv[1:], "
                      "info=os.environ['KUBERNETES_EXEC_INFO'], secret=os.environ.get('PLUGIN_SECRET'))))\n"
                      "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential', "
                      f"'status': {status!r}}}))\n"
                      f"sys.exit({exit_code})\n")
    return {"command": sys.executable, "args": [str(script), "--cluster", "c"], "apiVersion": "client.authentication.k8s.io/v1",
            "env": [{"name": "PLUGIN_SECRET", "value": "s3cret"}]}


def test_an_exec_plugin_is_run_as_client_go_runs_it_and_its_token_used(tmp_path):
    made = connect(kubeconfig=kubeconfig.dump_kubeconfig(_config({"exec": _plugin(tmp_path, {"token": "from-plugin"})})))
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert made.token == "from-plugin" and made.authorization == "Bearer from-plugin"
    assert seen["args"] == ["--cluster", "c"] and seen["secret"] == "s3cret"
    assert json.loads(seen["info"]) == {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                                        "spec": {"interactive": False}}


def test_an_exec_plugin_can_give_a_client_certificate(identity, tmp_path):
    _ca, cert, key = identity
    made = connect(kubeconfig=_config({"exec": _plugin(tmp_path, {"clientCertificateData": cert, "clientKeyData": key})}))
    assert made.server == "https://k8s.example.com" and made.authorization is None


@pytest.mark.parametrize("status, exit_code, message", [
    ({"token": "t"}, 3, "exited with status 3"),
    ({}, 0, "holds no token and no client certificate"),
])
def test_an_exec_plugin_that_fails_is_named_without_its_environment(tmp_path, status, exit_code, message):
    with pytest.raises(KubeConfigError, match=message) as refused:
        connect(kubeconfig=_config({"exec": _plugin(tmp_path, status, exit_code)}))
    assert "s3cret" not in str(refused.value)


def test_basic_auth_goes_through_the_transport():
    made = connect(kubeconfig=_config({"username": "admin", "password": "secret"}))
    assert made.authorization == "Basic " + base64.b64encode(b"admin:secret").decode()


def test_only_an_auth_provider_is_left_to_the_kubernetes_library():
    payload = base64.urlsafe_b64encode(json.dumps({"exp": 4102444800}).encode()).decode().rstrip("=")
    user = {"auth-provider": {"name": "oidc", "config": {"client-id": "gpve", "idp-issuer-url": "https://idp.example.com",
                                                         "id-token": f"e30.{payload}.c2ln"}}}
    with pytest.raises(transport.Unsupported):
        transport.from_kubeconfig(_config(user))
    made = connect(kubeconfig=_config(user))
    try:
        assert isinstance(made, AuthProviderTransport) and made.server == "https://k8s.example.com"
    finally:
        made.close()


def test_a_user_with_no_credential_is_refused():
    with pytest.raises(KubeConfigError, match="no client certificate, token, username or exec plugin"):
        connect(kubeconfig=_config({}))


def test_a_key_that_does_not_match_is_refused_naming_no_secret(identity):
    ca, cert, _key = identity
    other = keys.private_key_pem(keys.generate_private_key())
    config = kubeconfig.build_kubeconfig("https://127.0.0.1:6443", "c", "u", ca_pem=ca, client_cert_pem=cert,
                                         client_key_pem=other)
    with pytest.raises(KubeConfigError, match="client certificate and key cannot be used") as refused:
        transport.from_kubeconfig(config)
    assert other.splitlines()[1] not in str(refused.value)


def test_host_and_token_need_each_other_and_files_must_exist(tmp_path):
    with pytest.raises(KubeConfigError, match="api_key"):
        connect(host="https://k8s.example.com")
    with pytest.raises(KubeConfigError, match="is not a file"):
        connect(host_kubeconfig=str(tmp_path / "missing"))
    with pytest.raises(KubeConfigError, match="ca_cert"):
        connect(host="https://k8s.example.com", api_key="t", ca_cert=str(tmp_path / "missing.pem"))
    assert connect(host="https://k8s.example.com", api_key="t").token == "t"
    assert not os.listdir(tmp_path)
