"""Control-plane command lines: every certificate they name is in the Secret, flags as vcluster's k8s chart."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import bundle as bundles
from ansible_collections.gpve.cluster.plugins.module_utils.pki import layout
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import commands

pytestmark = pytest.mark.vcluster

PARAMS = commands.CommandParams(name="demo", namespace="vc-demo", service_cidr="10.100.0.0/16")
ALL_COMMANDS = (commands.apiserver_command, commands.etcd_command, commands.controller_manager_command,
                commands.scheduler_command)


def flags(argv):
    return dict(arg[2:].split("=", 1) for arg in argv[1:])


def pki_entries(argv, pki_dir=commands.PKI_DIR):
    return {value[len(pki_dir) + 1:] for value in flags(argv).values() if value.startswith(pki_dir + "/")}


def test_every_file_the_commands_read_is_an_entry_of_the_certs_secret():
    stored = set(bundles.secret_data(bundles.generate_bundle(layout.PkiParams(name="demo", namespace="vc-demo"))))
    named = set()
    for command in ALL_COMMANDS:
        named |= pki_entries(command(PARAMS))
    assert named <= stored
    # Everything but the admin kubeconfig and the healthcheck client is used by some component.
    assert stored - named == {"admin.conf", "etcd-healthcheck-client.crt", "etcd-healthcheck-client.key",
                              "front-proxy-ca.key", "etcd-ca.key"}


def test_apiserver_flags_wire_client_ca_etcd_tls_front_proxy_kubelet_and_service_accounts():
    found = flags(commands.apiserver_command(PARAMS))
    assert found["client-ca-file"] == "/run/config/pki/ca.crt"
    assert found["etcd-cafile"] == "/run/config/pki/etcd-ca.crt"
    assert found["etcd-certfile"] == "/run/config/pki/apiserver-etcd-client.crt"
    assert found["etcd-servers"] == "https://127.0.0.1:2379"
    assert found["requestheader-client-ca-file"] == "/run/config/pki/front-proxy-ca.crt"
    assert found["requestheader-allowed-names"] == "front-proxy-client"
    assert found["kubelet-client-certificate"] == "/run/config/pki/apiserver-kubelet-client.crt"
    assert (found["service-account-key-file"], found["service-account-signing-key-file"]) == (
        "/run/config/pki/sa.pub", "/run/config/pki/sa.key")
    assert found["service-account-issuer"] == "https://kubernetes.default.svc.cluster.local"
    assert found["service-cluster-ip-range"] == "10.100.0.0/16"
    assert found["advertise-address"] == "$(POD_IP)"


def test_single_etcd_member_keeps_peers_on_loopback_with_mutual_tls():
    found = flags(commands.etcd_command(PARAMS))
    assert found["initial-cluster"] == "$(POD_NAME)=https://127.0.0.1:2380"
    assert found["listen-client-urls"] == "https://127.0.0.1:2379"
    assert found["client-cert-auth"] == found["peer-client-cert-auth"] == "true"
    assert found["peer-trusted-ca-file"] == found["trusted-ca-file"] == "/run/config/pki/etcd-ca.crt"


def test_three_etcd_members_find_each_other_through_the_headless_service():
    found = flags(commands.etcd_command(commands.CommandParams(name="demo", namespace="vc-demo", replicas=3)))
    assert found["initial-cluster"] == ",".join(
        f"demo-{i}=https://demo-{i}.demo-headless.vc-demo.svc:2380" for i in range(3))
    assert found["initial-advertise-peer-urls"] == "https://$(POD_NAME).demo-headless.vc-demo.svc:2380"
    assert found["listen-peer-urls"] == "https://0.0.0.0:2380"


def test_extra_args_replace_built_in_flags_and_add_new_ones():
    params = commands.CommandParams(name="demo", namespace="vc-demo",
                                    apiserver_extra_args=["--authorization-mode=RBAC", "--v=2"],
                                    scheduler_extra_args={"v": 4})
    api = commands.apiserver_command(params)
    assert flags(api)["authorization-mode"] == "RBAC" and flags(api)["v"] == "2"
    assert sum(arg.startswith("--authorization-mode=") for arg in api) == 1
    assert flags(commands.scheduler_command(params))["v"] == "4"
    with pytest.raises(ValidationError, match="'--v' is not of the form"):
        commands.apiserver_command(commands.CommandParams(name="d", namespace="n", apiserver_extra_args=["--v"]))


def test_no_insecure_port_flag_for_the_supported_versions():
    # --port went away in 1.23/1.24: no supported version takes it, so no command carries it.
    assert "port" not in flags(commands.controller_manager_command(PARAMS))
    assert "port" not in flags(commands.scheduler_command(PARAMS))


def test_pod_env_declares_the_variables_the_commands_use():
    names = {entry["name"] for entry in commands.pod_env()}
    used = {arg.split("$(")[1].split(")")[0] for command in ALL_COMMANDS for arg in command(PARAMS) if "$(" in arg}
    assert used == names == {"POD_IP", "POD_NAME"}
