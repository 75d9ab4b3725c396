"""Kubeconfig documents: build, dump, load, credentials, server override, 0600 files."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.kubeconfig import KubeconfigError

pytestmark = pytest.mark.vcluster

CA = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN EC PRIVATE KEY-----\nS0VZ\n-----END EC PRIVATE KEY-----\n"


def cert_config(**overrides):
    arguments = dict(server="https://10.0.0.1:6443", cluster_name="gpve_demo", user_name="gpve_demo-admin",
                     ca_pem=CA, client_cert_pem=CERT, client_key_pem=KEY)
    arguments.update(overrides)
    return kubeconfig.build_kubeconfig(**arguments)


def test_client_certificate_config_embeds_everything_base64_as_clientcmd_wants():
    config = cert_config(namespace="default")
    assert config["current-context"] == "gpve_demo"
    assert config["clusters"][0]["cluster"]["certificate-authority-data"] == base64.b64encode(CA.encode()).decode()
    assert config["users"][0]["user"]["client-key-data"] == base64.b64encode(KEY.encode()).decode()
    assert config["contexts"][0]["context"] == {"cluster": "gpve_demo", "user": "gpve_demo-admin", "namespace": "default"}


def test_dump_then_load_then_credentials_gives_back_the_inputs():
    text = kubeconfig.dump_kubeconfig(cert_config(context_name="ctx"))
    assert kubeconfig.dump_kubeconfig(kubeconfig.load_kubeconfig(text)) == text
    found = kubeconfig.credentials(kubeconfig.load_kubeconfig(text))
    expected = ("ctx", "gpve_demo", "gpve_demo-admin", "https://10.0.0.1:6443")
    assert (found.context, found.cluster, found.user, found.server) == expected
    assert (found.ca_pem, found.client_cert_pem, found.client_key_pem, found.token) == (CA, CERT, KEY, "")


def test_token_config_and_no_ca_for_public_endpoints():
    config = kubeconfig.build_kubeconfig("https://k8s.example.com", "ext", "robot", token="s3cr3t")
    assert config["users"][0]["user"] == {"token": "s3cr3t"}
    assert "certificate-authority-data" not in config["clusters"][0]["cluster"]
    assert kubeconfig.credentials(config).token == "s3cr3t"


def test_printing_credentials_shows_no_secret():
    found = kubeconfig.credentials(cert_config(ca_pem=None, client_cert_pem=None, client_key_pem=None, token="s3cr3t"))
    assert "s3cr3t" not in repr(found) and "https://10.0.0.1:6443" in repr(found)


@pytest.mark.parametrize("overrides,message", [
    ({"client_key_pem": None}, "go together"),
    ({"token": "t"}, "not both"),
    ({"client_cert_pem": None, "client_key_pem": None}, "needs credentials"),
    ({"server": "10.0.0.1:6443"}, "not an http"),
    ({"server": "https://"}, "not an http"),
])
def test_incomplete_or_contradictory_input_is_refused(overrides, message):
    with pytest.raises(KubeconfigError, match=message):
        cert_config(**overrides)


@pytest.mark.parametrize("text,message", [
    ("kind: Pod\n", "kind Config"),
    ("[1, 2", "not a YAML"),
    ("clusters: {a: 1}\n", "clusters: a list"),
])
def test_loading_refuses_what_is_not_a_kubeconfig(text, message):
    with pytest.raises(KubeconfigError, match=message):
        kubeconfig.load_kubeconfig(text)


def test_credentials_of_an_unknown_context_and_bad_base64_name_the_field():
    with pytest.raises(KubeconfigError, match="contexts: no entry named 'other'"):
        kubeconfig.credentials(cert_config(), "other")
    config = cert_config()
    config["users"][0]["user"]["client-key-data"] = "***"
    with pytest.raises(KubeconfigError, match="^client-key-data: not base64"):
        kubeconfig.credentials(config)


def test_with_server_changes_a_copy_only():
    config = cert_config()
    moved = kubeconfig.with_server(config, "https://192.0.2.1:31443")
    assert kubeconfig.credentials(moved).server == "https://192.0.2.1:31443"
    assert kubeconfig.credentials(config).server == "https://10.0.0.1:6443"


def test_write_is_0600_atomic_and_reports_no_change_the_second_time(tmp_path):
    path = tmp_path / "sub" / "kubeconfig"
    text = kubeconfig.dump_kubeconfig(cert_config())
    assert kubeconfig.write_kubeconfig(str(path), text) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text() == text
    assert kubeconfig.write_kubeconfig(str(path), text) is False
    os.chmod(path, 0o644)
    assert kubeconfig.write_kubeconfig(str(path), text) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["kubeconfig"]
