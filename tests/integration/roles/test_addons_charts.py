"""addons.custom_charts is checked before anything is applied: a malformed entry or a missing
local chart (an air-gap .tgz or a chart directory) stops the role with a message naming the fix,
and no add-on of the same spec reaches the API server. Installing a local chart with the testbed's
helm is asserted on a real cluster (tests/integration/k8s_vm_real/test_k8s_vm_real_helm.py)."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from roles_support import TEST_PLAYBOOKS

from tests.playbook_run import ansible_env, run_playbook

pytestmark = pytest.mark.roles

WORDS = "addons.custom_charts: each entry needs name (unique) and chart_ref"


@pytest.mark.parametrize("charts, extra", [
    ([{"chart_ref": "bitnami/nginx"}], ""),                                      # no name
    ([{"name": "web"}], ""),                                                     # no chart_ref
    ([{"name": "web", "chart_ref": "a/b"}, {"name": "web", "chart_ref": "c/d"}], ""),   # the same name twice
    ("web", ""),                                                                  # not a list
    ([{"name": "web", "chart_ref": "/nonexistent/charts/web-1.0.0.tgz"}],
     "Missing local charts: /nonexistent/charts/web-1.0.0.tgz."),
    ([{"name": "web", "chart_ref": "/nonexistent/charts/web"}], "Missing local charts: /nonexistent/charts/web."),
], ids=["no-name", "no-chart-ref", "duplicate-name", "not-a-list", "missing-archive", "missing-directory"])
def test_a_bad_chart_entry_stops_before_anything_is_applied(testbed, kube_client, tmp_path, charts, extra):
    spec = {"metrics_server": {"enabled": True}, "custom_charts": charts}
    result = run_playbook(TEST_PLAYBOOKS / "addons_charts.yml",
                          {"addons_test_spec": spec, "addons_test_kubeconfig": testbed.kubeconfig},
                          ansible_env(), tmp_path / "addons.log")
    assert result.returncode != 0
    assert WORDS in result.stdout and extra in result.stdout, result.stdout[-3000:]
    with pytest.raises(ApiException) as missing:
        client.AppsV1Api(kube_client).read_namespaced_deployment("metrics-server", "kube-system")
    assert missing.value.status == 404
