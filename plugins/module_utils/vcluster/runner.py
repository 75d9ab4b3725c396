# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From the module's parameters to a finished run: spec, host client (or Proxmox for vm isolation), run, the
module's result dict."""

from __future__ import annotations

import dataclasses

from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import host
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import validation
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.service import RunOptions, VClusterRun

SPEC_OPTIONS = ("name", "namespace", "labels", "annotations", "kubernetes_version", "distro", "isolation_mode",
                "control_plane", "networking", "storage", "resources", "sync", "plugins", "syncer", "image_registry", "pki",
                "vm")
HOST_OPTIONS = ("host_kubeconfig", "host_context", "host", "api_key", "client_cert", "client_key", "ca_cert")
PROXMOX_OPTIONS = ("api_url", "api_user", "api_password", "api_token_id", "api_token_secret", "ca_path", "api_timeout")
# Each connection's own certificate check; validate_certs, which serves whichever connection the run makes, is
# what the task gives when it gives neither (then each connection's GPVE_* and ecosystem variables, in that order).
HOST_VALIDATE_CERTS = "host_validate_certs"
PROXMOX_VALIDATE_CERTS = "proxmox_validate_certs"


MAX_WAIT_TIMEOUT_S = 24 * 3600


def run_options(params, check_mode):
    """The run's options, checked: wait_timeout in range, kubeconfig_dest writable (before the first write)."""
    checks.number(params["wait_timeout"], "wait_timeout", 1, MAX_WAIT_TIMEOUT_S)
    if params.get("kubeconfig_dest") and params["state"] != "absent":
        checks.writable_destination(params["kubeconfig_dest"], "kubeconfig_dest")
    if params.get("kubeconfig_server"):
        checks.url(params["kubeconfig_server"], "kubeconfig_server", schemes=("https",))
    if params.get("host"):
        checks.url(params["host"], "host", schemes=("https", "http"))
    return RunOptions(state=params["state"], wait=params["wait"], wait_timeout=params["wait_timeout"],
                      kubeconfig_dest=params.get("kubeconfig_dest"), kubeconfig_server=params.get("kubeconfig_server"),
                      keep_pvc=params.get("keep_pvc", False), check_mode=check_mode)


def build_spec(params, environ=None):
    """The validated, normalised spec from module parameters; raises ValidationError before any connection."""
    options = {key: params.get(key) for key in SPEC_OPTIONS}
    validation.validate_free_form(options)
    spec = specs.normalize(options, environ)
    vm_mode = spec["isolation_mode"] == "vm" and params.get("state") != "absent"
    if vm_mode:
        from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import vm_spec
        vm_spec.validate_mode(spec)
    validation.validate_spec(spec)
    if vm_mode:
        vm_spec.validate(spec)
    return spec


def connection_options(params, names, own_validate_certs):
    """The task's options of one connection, as the shared connection settings name them (validate_certs: the
    connection's own option, else the one both share)."""
    options = {key: params.get(key) for key in names}
    own = params.get(own_validate_certs)
    options["validate_certs"] = own if own is not None else params.get("validate_certs")
    return options


def host_connection(options, environ=None):
    """The host-cluster connection from connection_options (connection_settings' rule: task option >
    GPVE_HOST_CLUSTER_* > K8S_AUTH_*)."""
    from ansible_collections.gpve.cluster.plugins.module_utils.kube import auth_spec
    return auth_spec.resolve_host_cluster(options, environ)


def proxmox_connection(options, environ=None):
    """The Proxmox connection of a vm isolation run from connection_options (task option > GPVE_PROXMOX_* >
    PROXMOX_*), its credentials checked. A missing api_url is named when the run first connects: the spec's own
    refusals come first."""
    from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import auth_spec
    return auth_spec.resolve_proxmox_auth(options, environ, required=False)


@dataclasses.dataclass
class Request:
    """What one gpve_vcluster run is asked: the checked spec and run options, and the two connections' options as the
    task gave them (the environment is read for the connection the run makes)."""
    spec: dict
    options: RunOptions
    host: dict
    proxmox: dict


def build_request(params, check_mode):
    """The module's request from its parameters; the spec and the run options are checked before any connection."""
    return Request(spec=build_spec(params), options=run_options(params, check_mode),
                   host=connection_options(params, HOST_OPTIONS, HOST_VALIDATE_CERTS),
                   proxmox=connection_options(params, PROXMOX_OPTIONS, PROXMOX_VALIDATE_CERTS))


def run_module(params, store, check_mode, kube_connection=None):
    """One run from module parameters (build_request, then run); the dict the module exits with."""
    return run(build_request(params, check_mode), store, kube_connection)


def run(request, store, kube_connection=None):
    """One run; the dict the module exits with (changed, cluster, objects, pki, kubeconfig_path, diff, warnings)."""
    spec, options = request.spec, request.options
    registered = store.find_cluster(spec["name"], type=kinds.VCLUSTER)
    recorded_vm = registered is not None and (registered.spec or {}).get("isolation_mode") == "vm"
    if spec["isolation_mode"] == "vm" or (recorded_vm and options.state == "absent"):
        outcome, connection_warnings = _vm_run(request.proxmox, spec, options, store, registered)
    else:
        outcome, connection_warnings = _host_run(request.host, spec, options, store, kube_connection)
    result = {"changed": outcome.changed, "cluster": outcome.cluster, "objects": outcome.objects,
              "diff": outcome.diff, "warnings": connection_warnings + outcome.warnings}
    if options.state != "absent":
        result["pki"] = outcome.pki
    if outcome.kubeconfig_path:
        result["kubeconfig_path"] = outcome.kubeconfig_path
    return result


def _host_run(params, spec, options, store, kube_connection):
    from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
    from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources
    connection = host_connection(params) if kube_connection is None else None
    if connection is not None and connection.values.get("host") and connection.sources.get("host") != "task":
        # run_options checked a task's host; one from the environment gets the same URL rule, named by its variable
        checks.url(connection.values["host"], connection.source("host"), schemes=("https", "http"))
    client = kube_connection or connect(**connection.values)
    try:
        resources = Resources(client)
        host.require_reachable(resources)
        return VClusterRun(spec, options, resources, store).run(), connection.warnings if connection else []
    finally:
        if kube_connection is None:
            client.close()


def _vm_run(params, spec, options, store, registered):
    """isolation_mode vm: the Proxmox machinery (imported only here: proxmoxer is not needed otherwise)."""
    from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.client import (
        HAS_PROXMOXER, PROXMOXER_IMPORT_ERROR, ConnectionOptions, ProxmoxClient)
    from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.tasks import DEFAULT_TASK_TIMEOUT
    from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.vm_run import VmVClusterRun
    if options.state == "absent" and registered is not None:
        spec = stored_specs.spec_of(registered)
    connection = proxmox_connection(params)
    if not HAS_PROXMOXER:
        raise GpveError(f"isolation_mode vm needs the proxmoxer Python library on the controller: {PROXMOXER_IMPORT_ERROR}")
    outcome = VmVClusterRun(spec, options, store, lambda: ProxmoxClient(ConnectionOptions(**connection.values)),
                            task_timeout=DEFAULT_TASK_TIMEOUT).run()
    return outcome, connection.warnings
