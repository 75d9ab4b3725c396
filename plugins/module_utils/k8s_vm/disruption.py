# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a registered cluster's PodDisruptionBudgets, the pods of their namespaces and its nodes through its stored
admin kubeconfig, and refuse a shrink whose drain a budget would block (the rule: planner/disruption.py).

Reads only, before gpve_k8s_vm writes anything.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.api import ClusterApi
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import disruption
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import NotFound

OPTION = 'check_disruption_budgets'
# How to go on without the check (a cluster whose API server is gone is when broken nodes are removed).
SKIP_HINT = ('skip the check: {0}=false (scale.yml: -e gpve_check_disruption_budgets=false), at the risk of a drain '
             'that blocks or evicts below a budget'.format(OPTION))


def read(api):
    """(budgets, pods of the budgets' namespaces, nodes) as the API server returns them."""
    budgets = api.list_items('/apis/policy/v1/poddisruptionbudgets', what='list PodDisruptionBudgets')
    namespaces = sorted(set(budget['metadata']['namespace'] for budget in budgets))
    pods = []
    for namespace in namespaces:
        pods += api.list_items('/api/v1/namespaces/{0}/pods'.format(namespace), what='list pods in ' + namespace)
    nodes = api.list_items('/api/v1/nodes', what='list nodes') if budgets else []
    return budgets, pods, nodes


def check_api(api, removed, field_of):
    """Raise ValidationError naming the budgets when draining the removed nodes could not finish."""
    findings = disruption.blocked_drains(*read(api), removed=removed)
    if findings:
        raise ValidationError(*disruption.refuse_message(findings, field_of))


def check(store, cluster, removed, field_of):
    """check_api on the cluster's API server, reached with the admin kubeconfig the registry holds for it."""
    if not removed:
        return
    try:
        with ClusterApi(connect(store=store, cluster=cluster)) as api:
            check_api(api, removed, field_of)
    except NotFound:
        raise ValidationError(OPTION, 'the registry holds no admin kubeconfig for {0}, so its PodDisruptionBudgets '
                                      'cannot be read; store it (gpve_cluster_credential) or {1}'.format(
                                          cluster.name, SKIP_HINT)) from None
    except KubeError as exc:
        raise ValidationError(OPTION, 'cannot read the PodDisruptionBudgets of {0} before removing {1}: {2}; make its '
                                      'API server reachable and run again, or {3}'.format(
                                          cluster.name, ', '.join(sorted(removed)), exc, SKIP_HINT)) from None
