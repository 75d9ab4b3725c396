"""The light transport: what it takes from a kubeconfig, and what it leaves to the kubernetes library."""

from __future__ import annotations

import datetime
import os
import tempfile

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.kube import transport
from ansible_collections.gpve.cluster.plugins.module_utils.kube.client import host_api_client
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
    assert host_api_client(host_kubeconfig=str(path)).server == "https://k8s.example.com"
    assert host_api_client(host_kubeconfig=str(path), host_context="token").token == "t0ken"


@pytest.mark.parametrize("user", [
    {"exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1beta1"}},
    {"auth-provider": {"name": "oidc"}},
    {"username": "admin", "password": "secret"},
    {},
])
def test_what_only_the_library_handles_is_unsupported_here(identity, user):
    config = {"clusters": [{"name": "c", "cluster": {"server": "https://k8s.example.com"}}],
              "users": [{"name": "u", "user": user}], "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
              "current-context": "x"}
    with pytest.raises(transport.Unsupported):
        transport.from_kubeconfig(config)


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
        host_api_client(host="https://k8s.example.com")
    with pytest.raises(KubeConfigError, match="is not a file"):
        host_api_client(host_kubeconfig=str(tmp_path / "missing"))
    with pytest.raises(KubeConfigError, match="ca_cert"):
        host_api_client(host="https://k8s.example.com", api_key="t", ca_cert=str(tmp_path / "missing.pem"))
    assert host_api_client(host="https://k8s.example.com", api_key="t").token == "t"
    assert not os.listdir(tmp_path)
