# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From the module's parameters to a finished run: spec, host client, run, the module's result dict."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.kube.client import host_api_client
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import validation
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.service import RunOptions, VClusterRun

SPEC_OPTIONS = ("name", "namespace", "labels", "annotations", "kubernetes_version", "distro", "isolation_mode",
                "control_plane", "networking", "storage", "resources", "sync", "plugins", "image_registry", "pki")
HOST_OPTIONS = ("host_kubeconfig", "host_context", "host", "api_key", "validate_certs", "ca_cert")


def run_options(params, check_mode):
    return RunOptions(state=params["state"], wait=params["wait"], wait_timeout=params["wait_timeout"],
                      kubeconfig_dest=params.get("kubeconfig_dest"), kubeconfig_server=params.get("kubeconfig_server"),
                      keep_pvc=params.get("keep_pvc", False), check_mode=check_mode)


def build_spec(params, environ=None):
    """The validated, normalised spec from module parameters; raises ValidationError before any connection."""
    options = {key: params.get(key) for key in SPEC_OPTIONS}
    validation.validate_free_form(options)
    spec = specs.normalize(options, environ)
    validation.validate_spec(spec)
    return spec


def run_module(params, store, check_mode, api_client=None):
    """One module run; the dict the module exits with (changed, cluster, objects, pki, kubeconfig_path, diff, warnings)."""
    spec = build_spec(params)
    options = run_options(params, check_mode)
    client = api_client or host_api_client(**{key: params.get(key) for key in HOST_OPTIONS})
    try:
        outcome = VClusterRun(spec, options, Resources(client), store).run()
    finally:
        if api_client is None:
            client.close()
    result = {"changed": outcome.changed, "cluster": outcome.cluster, "objects": outcome.objects,
              "diff": outcome.diff, "warnings": outcome.warnings}
    if options.state != "absent":
        result["pki"] = outcome.pki
    if outcome.kubeconfig_path:
        result["kubeconfig_path"] = outcome.kubeconfig_path
    return result
