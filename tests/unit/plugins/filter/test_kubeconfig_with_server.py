"""gpve.cluster.kubeconfig_with_server as a role uses it: a node's admin kubeconfig text in, text out."""

from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gpve.cluster.plugins.filter.kubeconfig_with_server import FilterModule
from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig

pytestmark = pytest.mark.roles

with_server = FilterModule().filters()["kubeconfig_with_server"]


def admin_conf():
    config = kubeconfig.build_kubeconfig("https://127.0.0.1:6443", "default", "admin", token="t0ken")
    other = {"name": "other", "cluster": {"server": "https://10.9.9.9:6443"}}
    config["clusters"].append(other)
    config["contexts"].append({"name": "other", "context": {"cluster": "other", "user": "admin"}})
    return kubeconfig.dump_kubeconfig(config)


def servers(text):
    return {entry["name"]: entry["cluster"]["server"] for entry in yaml.safe_load(text)["clusters"]}


def test_the_current_context_cluster_gets_the_server_and_nothing_else_changes():
    text = with_server(admin_conf(), "https://10.0.0.10:6443")
    assert servers(text) == {"default": "https://10.0.0.10:6443", "other": "https://10.9.9.9:6443"}
    assert yaml.safe_load(text)["users"] == yaml.safe_load(admin_conf())["users"]


def test_a_named_context_and_a_parsed_document():
    text = with_server(yaml.safe_load(admin_conf()), "https://10.0.0.11:6443", "other")
    assert servers(text) == {"default": "https://127.0.0.1:6443", "other": "https://10.0.0.11:6443"}


@pytest.mark.parametrize("config, server, words", [
    ("just: text", "https://10.0.0.10:6443", "no entry named"),
    ("- a list", "https://10.0.0.10:6443", "not a kubeconfig"),
    (None, "10.0.0.10:6443", "not an http(s) URL"),
])
def test_what_is_not_a_kubeconfig_or_not_a_server_fails_with_the_reason(config, server, words):
    with pytest.raises(AnsibleFilterError) as caught:
        with_server(admin_conf() if config is None else config, server)
    assert words in str(caught.value)


def test_ansible_tagged_strings_come_out_as_plain_yaml():
    """In a play the server is Ansible's own str subclass, which yaml.safe_dump refuses to represent."""
    class TaggedStr(str):
        pass
    text = with_server(TaggedStr(admin_conf()), TaggedStr("https://10.0.0.10:6443"))
    assert servers(text)["default"] == "https://10.0.0.10:6443"
