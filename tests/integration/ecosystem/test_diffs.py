"""Diff mode where a module reports changed: gpve_webhook, gpve_cluster_credential (SQLite registry) and
gpve_external_cluster (the testbed's API server). Secrets never show, only digests or markers; check mode predicts
the same diff the real run then makes."""

from __future__ import annotations

import json

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.diffs import secret_digest
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.ecosystem

SECRET = "whsec-diff-0123456789"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: u, user: {token: kubeconfig-token-1}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


@pytest.fixture
def registry_path(tmp_path):
    return str(tmp_path / "registry.db")


def module(module_name, registry_path, tmp_path, args, check_mode=False, diff=True):
    result = ansible_cli.run_module(module_name, dict(args, registry=registry_path), tmp_path, check_mode=check_mode,
                                    diff=diff)
    assert not result.get("failed"), result.get("msg")
    return result


def test_webhook_diffs_show_settings_and_never_the_secret(registry_path, tmp_path):
    args = dict(name="hooks", url="https://receiver.example/hook", secret=SECRET, event_types=["cluster.*"])
    predicted = module("gpve_webhook", registry_path, tmp_path, args, check_mode=True)
    created = module("gpve_webhook", registry_path, tmp_path, args)
    assert predicted["diff"] == created["diff"] and created["changed"]
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"] == {"url": "https://receiver.example/hook", "event_types": ["cluster.*"],
                                        "enabled": True, "secret": "(new secret)", "max_attempts": 5,
                                        "retry_delay": 1.0, "timeout": 10.0}

    again = module("gpve_webhook", registry_path, tmp_path, args)
    assert not again["changed"] and again["diff"]["before"] == again["diff"]["after"]
    assert again["diff"]["after"]["secret"] == "(stored, unchanged)"

    rotated_args = dict(args, secret=SECRET + "-2", enabled=False)
    rotated = module("gpve_webhook", registry_path, tmp_path, rotated_args)
    before, after = rotated["diff"]["before"], rotated["diff"]["after"]
    assert rotated["changed"] and {k for k in after if after[k] != before[k]} == {"secret", "enabled"}
    assert (before["secret"], after["secret"]) == ("(stored, unchanged)", "(new secret)")

    gone = module("gpve_webhook", registry_path, tmp_path, dict(name="hooks", state="absent"))
    assert gone["changed"] and gone["diff"]["after"] == {} and gone["diff"]["before"]["url"] == args["url"]
    assert SECRET not in json.dumps([predicted, created, again, rotated, gone])


def test_webhook_without_diff_mode_returns_no_diff(registry_path, tmp_path):
    created = module("gpve_webhook", registry_path, tmp_path, dict(name="h", url="https://r.example/", secret=SECRET), diff=False)
    assert created["changed"] and "diff" not in created


def register(registry_path, name="creds"):
    with open_registry(registry_path, actor="diff-tests", environ={}) as store:
        store.create_cluster(name, "external", spec={"endpoint": "https://10.0.0.1:6443"})


def test_credential_diffs_show_digests_of_the_secret_and_the_exported_file(registry_path, tmp_path):
    register(registry_path)
    predicted = module("gpve_cluster_credential", registry_path, tmp_path, dict(name="creds", content=KUBECONFIG), check_mode=True)
    stored = module("gpve_cluster_credential", registry_path, tmp_path, dict(name="creds", content=KUBECONFIG))
    assert predicted["diff"] == stored["diff"] == {
        "before": {}, "after": {"credential": "kubeconfig", "content": secret_digest(KUBECONFIG)}}

    replaced = KUBECONFIG.replace("kubeconfig-token-1", "kubeconfig-token-2")
    changed = module("gpve_cluster_credential", registry_path, tmp_path, dict(name="creds", content=replaced))
    assert changed["diff"] == {"before": {"credential": "kubeconfig", "content": secret_digest(KUBECONFIG)},
                               "after": {"credential": "kubeconfig", "content": secret_digest(replaced)}}

    dest = tmp_path / "out" / "admin.conf"
    exported = module("gpve_cluster_credential", registry_path, tmp_path, dict(name="creds", state="exported", dest=str(dest)))
    assert exported["changed"] and exported["diff"] == {
        "before": {"path": str(dest), "content": None, "mode": None},
        "after": {"path": str(dest), "content": secret_digest(replaced), "mode": "0600"}}
    dest.chmod(0o644)
    loosened = module("gpve_cluster_credential", registry_path, tmp_path, dict(name="creds", state="exported", dest=str(dest)))
    assert loosened["changed"] and (loosened["diff"]["before"]["mode"], loosened["diff"]["after"]["mode"]) == ("0644", "0600")
    again = module("gpve_cluster_credential", registry_path, tmp_path, dict(name="creds", state="exported", dest=str(dest)))
    assert not again["changed"] and again["diff"]["before"] == again["diff"]["after"]

    deleted = module("gpve_cluster_credential", registry_path, tmp_path, dict(name="creds", state="absent"))
    assert deleted["diff"] == {"before": {"credential": "kubeconfig", "content": secret_digest(replaced)}, "after": {}}
    everything = json.dumps([predicted, stored, changed, exported, loosened, again, deleted])
    assert "kubeconfig-token-1" not in everything and "kubeconfig-token-2" not in everything


def test_external_cluster_diffs_show_the_registry_record(testbed, registry_path, tmp_path):
    args = dict(name="tb-diff", kubeconfig=testbed.kubeconfig, labels={"env": "lab"})
    predicted = module("gpve_external_cluster", registry_path, tmp_path, args, check_mode=True)
    imported = module("gpve_external_cluster", registry_path, tmp_path, args)
    assert imported["changed"] and imported["diff"]["before"] == {}
    after = imported["diff"]["after"]
    assert (after["endpoint"], after["labels"], after["phase"], after["connection"]["auth_type"]) == (
        testbed.api_url, {"env": "lab"}, "Running", "certificate")
    assert after["kubeconfig"].startswith("sha256:") and after == predicted["diff"]["after"]

    prod_args = dict(args, labels={"env": "prod"})
    relabelled = module("gpve_external_cluster", registry_path, tmp_path, prod_args)
    before, after = relabelled["diff"]["before"], relabelled["diff"]["after"]
    assert relabelled["changed"] and {k for k in after if after[k] != before[k]} == {"labels"}

    same = module("gpve_external_cluster", registry_path, tmp_path, prod_args)
    assert not same["changed"] and same["diff"]["before"] == same["diff"]["after"]

    gone = module("gpve_external_cluster", registry_path, tmp_path, dict(name="tb-diff", state="absent"))
    assert gone["changed"] and gone["diff"] == {"before": same["diff"]["after"], "after": {}}
    assert "BEGIN" not in json.dumps([predicted, imported, relabelled, same, gone])


def test_cluster_phase_diff_shows_the_move_and_the_event(registry_path, tmp_path):
    with open_registry(registry_path, actor="diff-tests", environ={}) as store:
        store.create_cluster("staged", "external", spec={"endpoint": "https://10.0.0.1:6443"})
    args = dict(name="staged", phase="Connecting", event={"reason": "StageStarted", "text": "connect"})
    predicted = module("gpve_cluster_phase", registry_path, tmp_path, args, check_mode=True)
    moved = module("gpve_cluster_phase", registry_path, tmp_path, args)
    assert predicted["diff"] == moved["diff"] == {
        "before": {"phase": "Pending", "new_event": None},
        "after": {"phase": "Connecting", "new_event": "Normal StageStarted: connect"}}
    read = module("gpve_cluster_phase", registry_path, tmp_path, dict(name="staged"))
    assert not read["changed"] and read["diff"] == {"before": {"phase": "Connecting"}, "after": {"phase": "Connecting"}}


def test_kubeadm_token_diff_shows_the_secret_made_without_the_token(testbed, tmp_path):
    from kubernetes import client, config  # pylint: disable=import-outside-toplevel

    args = dict(kubeconfig=testbed.kubeconfig, ttl="5m", description="diff test")
    predicted = ansible_cli.run_module("gpve_kubeadm_token", args, tmp_path, check_mode=True, diff=True)
    made = ansible_cli.run_module("gpve_kubeadm_token", args, tmp_path, diff=True)
    api = client.CoreV1Api(config.new_client_from_config(config_file=testbed.kubeconfig))
    try:
        for result in (predicted, made):
            assert not result.get("failed"), result.get("msg")
            token_id, token_secret = result["token"].split(".")
            assert result["changed"] and result["diff"] == {"before": {}, "after": {
                "secret": f"kube-system/bootstrap-token-{token_id}", "token_id": token_id, "token_secret": "(new secret)",
                "expires_at": result["expires_at"], "description": "diff test", "ca_cert_hashes": result["ca_cert_hashes"]}}
            assert token_secret not in json.dumps(result["diff"])
        stored = api.read_namespaced_secret(f"bootstrap-token-{made['token_id']}", "kube-system")
        assert stored.type == "bootstrap.kubernetes.io/token"
    finally:
        api.delete_namespaced_secret(f"bootstrap-token-{made['token_id']}", "kube-system")
    quiet = ansible_cli.run_module("gpve_kubeadm_token", args, tmp_path, check_mode=True)
    assert quiet["changed"] and "diff" not in quiet
