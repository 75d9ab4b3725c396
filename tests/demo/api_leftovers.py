"""What a demo run left on the testbed's API server, so a reused testbed can be given back as it was.

With ``gpve_skip_guest_steps`` the testbed's API server stands in for the demo cluster's own:
create.yml's API-side steps (the CNI, bootstrap tokens) land there. ``ApiLeftovers`` notes
the cluster-wide objects of those kinds that exist before the run and, afterwards, deletes
the ones that appeared since (Nodes are the kubelet stand-in's to remove). System objects
(``system:*``, the ``kube-*`` namespaces Kubernetes makes) are never touched.
"""

from __future__ import annotations

from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.testbed.processes import wait_until

BOOTSTRAP_TOKEN = "bootstrap.kubernetes.io/token"
NAMESPACE_GONE_TIMEOUT = 120  # seconds; the pods in it must be finished first
PROTECTED_NAMESPACES = frozenset(("default", "kube-system", "kube-public", "kube-node-lease"))


class ApiLeftovers:
    def __init__(self, kubeconfig: str):
        self.api = config.new_client_from_config(kubeconfig)
        self.before: set[tuple[str, str]] = set()

    def _kinds(self):
        core, rbac = client.CoreV1Api(self.api), client.RbacAuthorizationV1Api(self.api)
        return {
            "Namespace": (lambda: core.list_namespace().items, core.delete_namespace),
            "ClusterRole": (lambda: rbac.list_cluster_role().items, rbac.delete_cluster_role),
            "ClusterRoleBinding": (lambda: rbac.list_cluster_role_binding().items, rbac.delete_cluster_role_binding),
            "Secret": (lambda: [s for s in core.list_namespaced_secret("kube-system").items if s.type == BOOTSTRAP_TOKEN],
                       lambda name: core.delete_namespaced_secret(name, "kube-system")),
        }

    def _present(self) -> set[tuple[str, str]]:
        return {(kind, item.metadata.name) for kind, (listing, _delete) in self._kinds().items() for item in listing()}

    def note(self) -> None:
        """Remember what exists now."""
        self.before = self._present()

    def remove_new(self) -> list[str]:
        """Delete what appeared since note() and wait until its namespaces are gone; returns 'Kind/name' of each.

        Call it while the kubelet stand-in still serves its Nodes: it finishes the pods of a deleted namespace.
        """
        kinds = self._kinds()
        removed = []
        for kind, name in sorted(self._present() - self.before):
            if name.startswith("system:") or (kind == "Namespace" and name in PROTECTED_NAMESPACES):
                continue
            try:
                kinds[kind][1](name)
            except ApiException as exc:
                if exc.status != 404:
                    raise
            removed.append(f"{kind}/{name}")
        namespaces = {entry.split("/", 1)[1] for entry in removed if entry.startswith("Namespace/")}
        core = client.CoreV1Api(self.api)
        wait_until(lambda: not namespaces & {item.metadata.name for item in core.list_namespace().items},
                   NAMESPACE_GONE_TIMEOUT, f"namespaces {', '.join(sorted(namespaces))} to be deleted")
        return removed

    def close(self) -> None:
        self.api.close()
