# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CoreDNS inside the virtual cluster: the objects kubeadm's CoreDNS add-on creates, as vcluster deploys them.

They live in the virtual cluster's ``kube-system`` (applied through the virtual API server,
not the host's): ServiceAccount, ClusterRole and ClusterRoleBinding ``system:coredns``, the
``coredns`` ConfigMap (Corefile), the ``coredns`` Deployment and the ``kube-dns`` Service at
the tenth address of the virtual service range, as kubeadm gives it. Their pods run on
nodes only through the syncer, which copies them to the host. With the syncer they go to it
as upstream's chart gives them: the host ConfigMap ``vc-coredns-<name>`` (key ``coredns.yaml``)
mounted at ``/manifests/coredns``; without it the run applies them itself.
"""

from __future__ import annotations

import ipaddress
import json

from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs

NAMESPACE = "kube-system"
NAME = "coredns"
SERVICE = "kube-dns"
ROLE = "system:coredns"
LABELS = {"k8s-app": "kube-dns"}
DNS_SERVICE_OFFSET = 10
# Where upstream's syncer reads the manifests: the ConfigMap's key, mounted at MANIFESTS_DIR.
MANIFESTS_KEY = "coredns.yaml"
MANIFESTS_DIR = "/manifests/coredns"
COREFILE = """.:53 {{
    errors
    health {{
       lameduck 5s
    }}
    ready
    kubernetes {domain} in-addr.arpa ip6.arpa {{
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }}
    prometheus :9153
    forward . /etc/resolv.conf {{
       max_concurrent 1000
    }}
    cache 30 {{
       disable success {domain}
       disable denial {domain}
    }}
    loop
    reload
    loadbalance
}}
"""


def dns_service_ip(service_cidr):
    """The tenth address of the service range (kubeadm's choice for kube-dns)."""
    return str(ipaddress.ip_network(service_cidr).network_address + DNS_SERVICE_OFFSET)


def objects(spec):
    """The CoreDNS objects for the virtual cluster of spec, in applying order."""
    metadata = {"name": NAME, "namespace": NAMESPACE}
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE}
    ports = [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
             {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
             {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(metadata)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": ROLE},
         "rules": [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"]},
                   {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]},
                   {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": ROLE},
         "roleRef": role_ref, "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": dict(metadata),
         "data": {"Corefile": COREFILE.format(domain=spec["networking"]["dns_domain"])}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": dict(metadata, labels=dict(LABELS)),
         "spec": {"replicas": 1, "selector": {"matchLabels": dict(LABELS)},
                  "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                  "template": {"metadata": {"labels": dict(LABELS)}, "spec": _pod_spec(spec)}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": dict(metadata, name=SERVICE, labels=dict(LABELS, **{"kubernetes.io/name": "CoreDNS"})),
         "spec": {"selector": dict(LABELS), "clusterIP": dns_service_ip(spec["networking"]["service_cidr"]),
                  "ports": ports}},
    ]


def manifests_text(spec):
    """The objects as one multi-document YAML text (each document JSON, which is YAML), as upstream's syncer reads
    them from its ``coredns.yaml``."""
    return "\n---\n".join(json.dumps(obj, indent=2, sort_keys=True) for obj in objects(spec)) + "\n"


def _pod_spec(spec):
    resources = spec["resources"]["coredns"]
    probe = {"periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 5}
    container = {
        "name": NAME, "image": specs.images(spec)["coredns"], "args": ["-conf", "/etc/coredns/Corefile"],
        "resources": {"requests": dict(resources["requests"]), "limits": dict(resources["limits"])},
        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}],
        "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                  {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                  {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
        "livenessProbe": dict(probe, httpGet={"path": "/health", "port": 8080, "scheme": "HTTP"},
                              initialDelaySeconds=60, successThreshold=1),
        "readinessProbe": dict(probe, httpGet={"path": "/ready", "port": 8181, "scheme": "HTTP"}),
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}},
    }
    return {"serviceAccountName": NAME, "priorityClassName": "system-cluster-critical", "dnsPolicy": "Default",
            "containers": [container],
            "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                            {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
            "volumes": [{"name": "config-volume", "configMap": {"name": NAME,
                                                                "items": [{"key": "Corefile", "path": "Corefile"}]}}]}
