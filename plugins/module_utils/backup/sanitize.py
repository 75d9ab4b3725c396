# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Objects as a backup keeps them: without what the server fills in, so they re-apply cleanly.

``clean`` strips identity and bookkeeping (uid, resourceVersion, managedFields, status...)
and owner references (they name uids that will not exist after a restore, and the garbage
collector would delete the restored object). Per kind it also drops what belongs to the old
cluster: a Pod's node and its service-account token volume, the token references of a
ServiceAccount, the binding annotations of a claim, the controller-uid labels of a Job.
A Service keeps its clusterIP and nodePorts: the restore retries without them if they are
taken.

``rebuilt_reason`` says why an object is left out because something rebuilds it: objects
with a controlling owner (ReplicaSets of a Deployment, Pods of a ReplicaSet), service
account tokens, the published root CA, the ``kubernetes`` Service, Endpoints of Services
with a selector, automanaged APIServices, objects being deleted.
"""

from __future__ import annotations

import copy

SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
                   "deletionGracePeriodSeconds", "selfLink", "managedFields", "ownerReferences")
CLAIM_BINDING_ANNOTATIONS = ("pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller")
JOB_CONTROLLER_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
AUTOMANAGED_API_SERVICE = "kube-aggregator.kubernetes.io/automanaged"


def rebuilt_reason(obj, services_with_selector=frozenset()):
    """Why obj is left out of a backup (something recreates it), or None to keep it.

    services_with_selector: (namespace, name) of the Services whose Endpoints a controller manages.
    """
    metadata = obj.get("metadata") or {}
    kind, name, namespace = obj.get("kind"), metadata.get("name"), metadata.get("namespace")
    if metadata.get("deletionTimestamp"):
        return "being deleted"
    for owner in metadata.get("ownerReferences") or []:
        if owner.get("controller"):
            return f"controlled by {owner.get('kind')} {owner.get('name')}"
    if kind == "Secret" and obj.get("type") == SERVICE_ACCOUNT_TOKEN:
        return "service account token (the token controller issues a new one)"
    if kind == "ConfigMap" and name == ROOT_CA_CONFIGMAP:
        return "root CA published into every namespace by the controller manager"
    if kind in ("Service", "Endpoints") and namespace == "default" and name == "kubernetes":
        return "maintained by the API server"
    if kind == "Endpoints" and (namespace, name) in services_with_selector:
        return "maintained by the endpoints controller for its Service"
    if kind == "APIService" and (metadata.get("labels") or {}).get(AUTOMANAGED_API_SERVICE):
        return "registered by the API server"
    return None


def clean(obj):
    """A copy of obj fit to be created again."""
    clean_obj = copy.deepcopy(obj)
    clean_obj.pop("status", None)
    metadata = clean_obj.setdefault("metadata", {})
    for key in SERVER_METADATA:
        metadata.pop(key, None)
    per_kind = _PER_KIND.get(clean_obj.get("kind"))
    if per_kind is not None:
        per_kind(clean_obj)
    return clean_obj


def _pod(pod):
    spec = pod.get("spec") or {}
    spec.pop("nodeName", None)
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    token_volumes = {volume.get("name") for volume in spec.get("volumes") or []
                     if ((volume.get("secret") or {}).get("secretName") or "").startswith(f"{account}-token-")}
    if not token_volumes:
        return
    spec["volumes"] = [volume for volume in spec["volumes"] if volume.get("name") not in token_volumes]
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        mounts = container.get("volumeMounts")
        if mounts:
            container["volumeMounts"] = [mount for mount in mounts if mount.get("name") not in token_volumes]


def _service_account(account):
    name = (account.get("metadata") or {}).get("name", "")
    secrets = account.get("secrets")
    if secrets:
        kept = [ref for ref in secrets if not (ref.get("name") or "").startswith(f"{name}-token-")]
        if kept:
            account["secrets"] = kept
        else:
            account.pop("secrets")


def _claim(claim):
    annotations = (claim.get("metadata") or {}).get("annotations") or {}
    for key in CLAIM_BINDING_ANNOTATIONS:
        annotations.pop(key, None)


def _volume(volume):
    claim_ref = (volume.get("spec") or {}).get("claimRef")
    if claim_ref:
        for key in ("uid", "resourceVersion"):
            claim_ref.pop(key, None)


def _job(job):
    spec = job.get("spec") or {}
    match_labels = (spec.get("selector") or {}).get("matchLabels") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    for labels in (match_labels, template_labels):
        for key in JOB_CONTROLLER_LABELS:
            labels.pop(key, None)
    if not match_labels and not (spec.get("selector") or {}).get("matchExpressions"):
        spec.pop("selector", None)
        spec.pop("manualSelector", None)


_PER_KIND = {
    "Pod": _pod,
    "ServiceAccount": _service_account,
    "PersistentVolumeClaim": _claim,
    "PersistentVolume": _volume,
    "Job": _job,
}


def strip_allocations(service):
    """A copy of a Service without the cluster IPs and node ports it held in the old cluster."""
    stripped = copy.deepcopy(service)
    spec = stripped.get("spec") or {}
    if spec.get("clusterIP") not in ("None",):
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    for port in spec.get("ports") or []:
        port.pop("nodePort", None)
    return stripped
