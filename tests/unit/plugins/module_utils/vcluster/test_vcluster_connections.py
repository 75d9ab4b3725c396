"""gpve_vcluster's two connections each have their own certificate check, and the precedence stays the collection's:
the connection's own option > validate_certs (both connections) > GPVE_* variable > K8S_AUTH_* / PROXMOX_* variable."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import runner
from ansible_collections.gpve.cluster.plugins.modules import gpve_vcluster

pytestmark = pytest.mark.vcluster

HOST_ENV = ("GPVE_HOST_CLUSTER_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL")
PROXMOX_ENV = ("GPVE_PROXMOX_VALIDATE_CERTS", "PROXMOX_VALIDATE_CERTS")
CASES = [
    # (task options, GPVE_* variable, ecosystem variable) -> (verified, where it came from)
    ({"own": False, "validate_certs": True}, "true", "true", False, "task"),
    ({"own": True, "validate_certs": False}, "false", "false", True, "task"),
    ({"validate_certs": False}, "true", "true", False, "task"),
    ({}, "false", "true", False, "gpve"),
    ({}, None, "false", False, "ecosystem"),
    ({}, None, None, True, None),
]


def _params(task, own_option, extra):
    """The module's parameters as AnsibleModule leaves them (every option of its argument spec present)."""
    given = {key if key != "own" else own_option: value for key, value in task.items()}
    validated = ArgumentSpecValidator(gpve_vcluster.argument_spec()).validate(dict(given, name="vc1", **extra))
    assert not validated.error_messages, validated.error_messages
    return validated.validated_parameters


def _environ(variables, gpve, ecosystem):
    return {name: value for name, value in zip(variables, (gpve, ecosystem)) if value is not None}


def _source(variables, where):
    return {"task": "validate_certs", "gpve": variables[0], "ecosystem": variables[1], None: None}[where]


@pytest.mark.parametrize("task, gpve, ecosystem, verified, where", CASES)
def test_the_host_cluster_connection_checks_certificates_by_the_precedence_rule(task, gpve, ecosystem, verified, where):
    params = _params(task, "host_validate_certs", {"host_kubeconfig": "/kc"})
    # PROXMOX_* saying the opposite must not reach the host cluster's connection.
    environ = dict(_environ(HOST_ENV, gpve, ecosystem), PROXMOX_VALIDATE_CERTS=str(not verified).lower())
    resolved = runner.host_connection(runner.connection_options(params, runner.HOST_OPTIONS, runner.HOST_VALIDATE_CERTS),
                                      environ)
    assert resolved.values["validate_certs"] is verified
    assert resolved.source("validate_certs") == _source(HOST_ENV, where)


@pytest.mark.parametrize("task, gpve, ecosystem, verified, where", CASES)
def test_the_proxmox_connection_checks_certificates_by_the_precedence_rule(task, gpve, ecosystem, verified, where):
    params = _params(task, "proxmox_validate_certs", {"isolation_mode": "vm", "api_url": "https://pve.example:8006",
                                                      "api_user": "ops@pve", "api_password": "pw"})
    environ = dict(_environ(PROXMOX_ENV, gpve, ecosystem), K8S_AUTH_VERIFY_SSL=str(not verified).lower())
    resolved = runner.proxmox_connection(
        runner.connection_options(params, runner.PROXMOX_OPTIONS, runner.PROXMOX_VALIDATE_CERTS), environ)
    assert resolved.values["validate_certs"] is verified
    assert resolved.source("validate_certs") == _source(PROXMOX_ENV, where)


def test_one_connections_own_option_leaves_the_other_connection_alone():
    params = _params({"host_validate_certs": False}, "host_validate_certs", {})
    proxmox = runner.connection_options(params, runner.PROXMOX_OPTIONS, runner.PROXMOX_VALIDATE_CERTS)
    host = runner.connection_options(params, runner.HOST_OPTIONS, runner.HOST_VALIDATE_CERTS)
    assert (host["validate_certs"], proxmox["validate_certs"]) == (False, None)
