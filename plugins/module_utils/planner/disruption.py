# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""May the nodes a shrink removes be drained? Pure: Kubernetes objects (as the API returns them) in, findings out.

Draining a node evicts its pods (DaemonSet pods, mirror pods, and pods already gone, finished or never scheduled
excepted: the eviction API lets those go without asking a budget). A PodDisruptionBudget blocks that drain for good,
so the shrink is refused before anything is written, when a pod it covers runs on a removed node and:

1. the budget allows no disruption now (status.disruptionsAllowed 0 in a status the disruption controller has
   caught up with): the API refuses the first eviction, and no replacement is made until one succeeds. An unhealthy
   pod is evictable anyway under unhealthyPodEvictionPolicy AlwaysAllow, or while the budget holds its minimum;
2. the nodes left cannot hold as many of its pods as it must keep healthy (status.desiredHealthy). Counted
   generously, so that a refusal is certain: every pod on a kept node, and every pod not yet bound, may become
   healthy; a pod of a controller on a removed node is replaced on a kept node that is schedulable, matches its
   nodeSelector and whose NoSchedule/NoExecute taints it tolerates (one per node when the pod requires, on
   kubernetes.io/hostname, anti-affinity to pods like itself); a pod no controller owns is not replaced;
3. a pod on a removed node is covered by more than one budget: the eviction API refuses such a pod.

Memory, CPU and node affinity are not counted, so a drain may still fail for them; it then fails its stage, naming
the pod, like any failed drain.
"""

from __future__ import annotations

import json

HOSTNAME = 'kubernetes.io/hostname'
MIRROR = 'kubernetes.io/config.mirror'
BLOCKING_EFFECTS = ('NoSchedule', 'NoExecute')


# ------------------------------------------------------------------ objects

def _meta(obj):
    return obj.get('metadata') or {}


def _spec(obj):
    return obj.get('spec') or {}


def _status(obj):
    return obj.get('status') or {}


def name_of(obj):
    meta = _meta(obj)
    return '{0}/{1}'.format(meta.get('namespace'), meta.get('name'))


def _labels(obj):
    return _meta(obj).get('labels') or {}


def selector_matches(selector, labels):
    """A LabelSelector against labels; None selects nothing (policy/v1), {} everything."""
    if selector is None:
        return False
    for key, value in (selector.get('matchLabels') or {}).items():
        if labels.get(key) != value:
            return False
    return all(_expression_matches(expression, labels) for expression in selector.get('matchExpressions') or ())


def _expression_matches(expression, labels):
    key, operator, values = expression.get('key'), expression.get('operator'), expression.get('values') or []
    if operator == 'In':
        return key in labels and labels[key] in values
    if operator == 'NotIn':
        return key not in labels or labels[key] not in values
    if operator == 'Exists':
        return key in labels
    if operator == 'DoesNotExist':
        return key not in labels
    return False


def is_ready(pod):
    return any(c.get('type') == 'Ready' and c.get('status') == 'True' for c in _status(pod).get('conditions') or ())


def _controller(pod):
    return next((ref for ref in _meta(pod).get('ownerReferences') or () if ref.get('controller')), None)


def _is_daemon(pod):
    return any(ref.get('kind') == 'DaemonSet' for ref in _meta(pod).get('ownerReferences') or ())


def _counts(pod):
    """A pod a budget counts and a drain has to evict past it: not gone, not finished, not a mirror pod."""
    if _meta(pod).get('deletionTimestamp') or MIRROR in (_meta(pod).get('annotations') or {}):
        return False
    return _status(pod).get('phase') not in ('Succeeded', 'Failed')


def _evicted_by_drain(pod):
    """On a removed node: a pod the drain evicts through the budget (not a DaemonSet's, not still Pending)."""
    return _counts(pod) and not _is_daemon(pod) and _status(pod).get('phase') != 'Pending'


def tolerates(tolerations, taint):
    for toleration in tolerations or ():
        if toleration.get('effect') and toleration['effect'] != taint.get('effect'):
            continue
        if toleration.get('operator') == 'Exists':
            if not toleration.get('key') or toleration['key'] == taint.get('key'):
                return True
        elif toleration.get('key') == taint.get('key') and (toleration.get('value') or '') == (taint.get('value') or ''):
            return True
    return False


def may_run_on(pod, node):
    """The pod could be scheduled on node, by cordon, nodeSelector and taints."""
    if _spec(node).get('unschedulable'):
        return False
    labels = _labels(node)
    if any(labels.get(key) != value for key, value in (_spec(pod).get('nodeSelector') or {}).items()):
        return False
    tolerations = _spec(pod).get('tolerations')
    return all(tolerates(tolerations, taint) for taint in _spec(node).get('taints') or ()
               if taint.get('effect') in BLOCKING_EFFECTS)


def self_anti_affinity(pod):
    """The label selector of a required anti-affinity on the host name to pods like this one, or None."""
    anti = (_spec(pod).get('affinity') or {}).get('podAntiAffinity') or {}
    for term in anti.get('requiredDuringSchedulingIgnoredDuringExecution') or ():
        namespaces = term.get('namespaces') or []
        if term.get('topologyKey') != HOSTNAME or term.get('namespaceSelector') is not None:
            continue
        if namespaces and _meta(pod).get('namespace') not in namespaces:
            continue
        if selector_matches(term.get('labelSelector'), _labels(pod)):
            return term['labelSelector']
    return None


# ------------------------------------------------------------------- budgets

def covers(budget, pod):
    return (_meta(pod).get('namespace') == _meta(budget).get('namespace')
            and selector_matches(_spec(budget).get('selector'), _labels(pod)))


def _status_current(budget):
    observed = _status(budget).get('observedGeneration')
    return observed is not None and observed >= (_meta(budget).get('generation') or 0)


def _rule(budget):
    spec = _spec(budget)
    if spec.get('minAvailable') is not None:
        return 'minAvailable {0}'.format(spec['minAvailable'])
    if spec.get('maxUnavailable') is not None:
        return 'maxUnavailable {0}'.format(spec['maxUnavailable'])
    return 'no minAvailable or maxUnavailable'


def _evictable_now(budget, pod):
    """Whether the eviction API would let pod go now under budget."""
    status = _status(budget)
    if not _status_current(budget) or (status.get('disruptionsAllowed') or 0) > 0:
        return True
    if is_ready(pod):
        return False
    healthy_enough = (status.get('currentHealthy') or 0) >= (status.get('desiredHealthy') or 0)
    return _spec(budget).get('unhealthyPodEvictionPolicy') == 'AlwaysAllow' or healthy_enough


def _most_healthy_after(pods, moving, kept_nodes):
    """The most pods of a budget that can be healthy once the removed nodes are gone (generously counted)."""
    staying = [pod for pod in pods if pod not in moving]
    replaced = [pod for pod in moving if _controller(pod) is not None and not _is_daemon(pod)]
    groups = {}
    for pod in replaced:  # pods alike: the same anti-affinity, nodeSelector and tolerations
        key = json.dumps([self_anti_affinity(pod), _spec(pod).get('nodeSelector'), _spec(pod).get('tolerations')],
                         sort_keys=True)
        groups.setdefault(key, []).append(pod)
    total = len(staying)
    for group in groups.values():
        nodes = [node for node in kept_nodes if may_run_on(group[0], node)]
        selector = self_anti_affinity(group[0])
        if selector is None:
            total += len(group) if nodes else 0
            continue
        taken = set(_spec(pod).get('nodeName') for pod in staying if selector_matches(selector, _labels(pod)))
        total += min(len(group), len([node for node in nodes if _meta(node).get('name') not in taken]))
    return total


def _nodes_of(pods):
    return sorted(set(_spec(pod).get('nodeName') for pod in pods))


def blocked_drains(budgets, pods, nodes, removed):
    """Why draining the removed nodes (names) cannot finish: a list of {budget, pods, reason}, empty when it can.

    budgets, pods and nodes: the cluster's PodDisruptionBudgets, the pods of their namespaces and its nodes, as the
    API server returns them.
    """
    removed = set(removed)
    kept_nodes = [node for node in nodes if _meta(node).get('name') not in removed]
    live = [pod for pod in pods if _counts(pod)]
    findings = []
    for pod in live:
        if _spec(pod).get('nodeName') in removed and _evicted_by_drain(pod):
            owners = [name_of(budget) for budget in budgets if covers(budget, pod)]
            if len(owners) > 1:
                findings.append({'budget': owners[0], 'pods': [name_of(pod)], 'nodes': _nodes_of([pod]), 'reason': (
                    'pod {0} is covered by the budgets {1}, and the eviction API refuses a pod with more than one '
                    'budget'.format(name_of(pod), ', '.join(owners)))})
    for budget in budgets:
        covered = [pod for pod in live if covers(budget, pod)]
        moving = [pod for pod in covered if _spec(pod).get('nodeName') in removed]
        evicted = [pod for pod in moving if _evicted_by_drain(pod)]
        if not evicted:
            continue
        status = _status(budget)
        stuck = [pod for pod in evicted if not _evictable_now(budget, pod)]
        names = [name_of(pod) for pod in evicted]
        if stuck:
            stuck_names = [name_of(pod) for pod in stuck]
            reason = ('PodDisruptionBudget {0} ({1}) allows no disruption now ({2} healthy pods, {3} needed), so the '
                      'eviction of {4} is refused').format(name_of(budget), _rule(budget), status.get('currentHealthy') or 0,
                                                           status.get('desiredHealthy') or 0, ', '.join(stuck_names))
            findings.append({'budget': name_of(budget), 'pods': stuck_names, 'nodes': _nodes_of(stuck), 'reason': reason})
            continue
        needed = status.get('desiredHealthy') or 0
        most = _most_healthy_after(covered, moving, kept_nodes)
        if most < needed:
            reason = ('PodDisruptionBudget {0} ({1}) needs {2} healthy pods, but the nodes left can run at most {3} of '
                      'them once {4} move off the removed nodes').format(name_of(budget), _rule(budget), needed, most,
                                                                         ', '.join(names))
            findings.append({'budget': name_of(budget), 'pods': names, 'nodes': _nodes_of(evicted), 'reason': reason})
    return findings


def refuse_message(findings, field_of):
    """(field, message) of the refusal. field_of: node name -> the spec field whose shrink removes that node."""
    nodes = sorted(set(node for finding in findings for node in finding['nodes']))
    fields = sorted(set(field_of.get(node, 'workers') for node in nodes))
    reasons = '; '.join(finding['reason'] for finding in findings)
    budgets = ', '.join(sorted(set(finding['budget'] for finding in findings)))
    return ', '.join(fields), ('draining {0} could not finish: {1}. Relax or delete the budget ({2}), or give its '
                               'workload room (more replicas, other nodes), or remove other or fewer nodes; then run '
                               'again'.format(', '.join(nodes), reasons, budgets))
