"""gpve_vcluster run as Ansible runs it against the testbed's real API server, with hostile arguments: each run
fails naming the field, and writes nothing - no registry row, no namespace or object on the host, no file. A hung
host API server fails the run at once; an unwritable kubeconfig_dest is refused before the namespace exists."""

from __future__ import annotations

import os
import socket
import time

import pytest
import yaml

from tests.integration.security.hostile_support import files_under, make_sandbox, name_cases, registry_cases, registry_rows
from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.vcluster

SECRET = "hunter2-vcluster"


def _bomb(width=40, depth=3):
    value = "lol" * 20
    for _level in range(depth):
        value = [value] * width
    return value


# (id, arguments over {name: hostile}, field named)
CASES = name_cases("name") + registry_cases(SECRET) + [
    ("name-upper", {"name": "Team-A"}, "name"),
    ("namespace-traversal", {"namespace": "../default"}, "namespace"),
    ("namespace-system-like", {"namespace": "kube_system"}, "namespace"),
    ("namespace-huge", {"namespace": "n" * 64}, "namespace"),
    ("label-key", {"labels": {"bad key": "x"}}, "labels"),
    ("label-value-shell", {"labels": {"team": "$(id)"}}, "labels"),
    ("kubeconfig-dest-directory", {"kubeconfig_dest": "{sandbox}"}, "kubeconfig_dest"),
    ("kubeconfig-dest-under-file", {"kubeconfig_dest": "{sandbox}/a-file/kc.yaml"}, "kubeconfig_dest"),
    ("wait-timeout-negative", {"wait_timeout": -1}, "wait_timeout"),
    ("wait-timeout-zero", {"wait_timeout": 0}, "wait_timeout"),
    ("wait-timeout-huge", {"wait_timeout": 10 ** 9}, "wait_timeout"),
    ("wait-timeout-text", {"wait_timeout": "forever"}, "wait_timeout"),
    ("version-injection", {"kubernetes_version": "1.35.0; curl x | sh"}, "kubernetes_version"),
    ("service-cidr-injection", {"networking": {"service_cidr": "10.96.0.0/12 && id"}}, "networking.service_cidr"),
    ("node-port-negative", {"networking": {"expose": {"type": "NodePort", "node_port": -1}}},
     "networking.expose.node_port"),
    ("replicas-huge", {"control_plane": {"replicas": 10 ** 6}}, "control_plane.replicas"),
    ("resources-alias-bomb", {"resources": {"limits": _bomb()}}, "resources"),
    ("sync-unknown", {"sync": {"to_host": {"secrets-of-everyone": True}}}, "sync.to_host.secrets-of-everyone"),
    ("unknown-option", {"bogus": True}, "bogus"),
    ("unknown-nested-option", {"storage": {"size": "1Gi", "hostPath": "/etc"}}, "storage.hostPath"),
    ("host-credentials", {"host": "https://admin:" + SECRET + "@127.0.0.1:6443", "api_key": "x"}, "host"),
    ("kubeconfig-server-credentials", {"kubeconfig_server": "https://admin:" + SECRET + "@vc.example:443"},
     "kubeconfig_server"),
    ("extra-san-newline", {"pki": {"extra_sans": ["vc.example\nevil"]}}, "pki.extra_sans"),
]


@pytest.fixture
def sandbox(tmp_path):
    return make_sandbox(tmp_path)


def namespaces(host_resources):
    """The host's namespaces but those being deleted (an earlier test's, going away while this one runs)."""
    return sorted(item["metadata"]["name"] for item in host_resources.list("Namespace")
                  if (item.get("status") or {}).get("phase") != "Terminating")


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(testbed, host_resources, registry_path, sandbox,
                                                                    tmp_path, args, field):
    values = dict({"name": "hostile"}, host_kubeconfig=testbed.kubeconfig, registry=registry_path, wait_timeout=30)
    values.update({key: value.format(sandbox=sandbox) if isinstance(value, str) and "{sandbox}" in value else value
                   for key, value in args.items()})
    before = namespaces(host_resources), registry_rows(registry_path), files_under(sandbox)
    result = ansible_cli.run_module("gpve_vcluster", values, tmp_path)
    if not result.get("failed"):  # a regression: remove what it created, then fail
        ansible_cli.run_module("gpve_vcluster", dict(values, state="absent"), tmp_path)
    assert result.get("failed"), result
    message = str(result.get("msg"))
    assert field in message or result.get("field") == field, message
    assert (namespaces(host_resources), registry_rows(registry_path), files_under(sandbox)) == before
    assert SECRET not in repr(result)


def test_an_unwritable_kubeconfig_dest_is_refused_before_the_namespace_exists(testbed, host_resources, registry_path,
                                                                              tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    dest = locked / "sub" / "kc.yaml"
    values = dict(name="unwritable", host_kubeconfig=testbed.kubeconfig, registry=registry_path, kubeconfig_dest=str(dest))
    before = namespaces(host_resources)
    if os.geteuid() == 0:
        # root writes anywhere: a destination under a regular file is unwritable for everyone
        (tmp_path / "plain").write_text("x\n")
        values["kubeconfig_dest"] = str(tmp_path / "plain" / "kc.yaml")
    result = ansible_cli.run_module("gpve_vcluster", values, tmp_path)
    assert result.get("failed") and result.get("field") == "kubeconfig_dest", result
    assert namespaces(host_resources) == before and "vc-unwritable" not in before
    assert registry_rows(registry_path) in (None, {table: [] for table in registry_rows(registry_path) or {}})


@pytest.fixture
def hung_api_server(testbed, tmp_path):
    """A kubeconfig of the testbed admin pointing at a port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    with open(testbed.kubeconfig, encoding="utf-8") as source:
        config = yaml.safe_load(source)
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:{0}".format(listener.getsockname()[1])
    path = tmp_path / "hung.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    yield str(path)
    listener.close()


def test_a_hung_host_api_server_fails_the_run_at_once(hung_api_server, registry_path, tmp_path):
    started = time.monotonic()
    result = ansible_cli.run_module("gpve_vcluster", dict(name="unreachable", host_kubeconfig=hung_api_server,
                                                          registry=registry_path, wait_timeout=300), tmp_path)
    elapsed = time.monotonic() - started
    assert result.get("failed") and "the host API server" in result["msg"] and "could not be reached" in result["msg"]
    assert elapsed < 60, elapsed  # the probe's 5 s timeout, not wait_timeout (300 s)
    rows = registry_rows(registry_path)
    assert rows is None or not rows["clusters"]
