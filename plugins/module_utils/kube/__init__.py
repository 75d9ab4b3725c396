# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talking to a Kubernetes API server (a host cluster, or a managed cluster).

connect.py         connect(): the one factory of every connection - kubeconfig text, a registered cluster's stored
                   credential, or the host-cluster options
transport.py       the one HTTPS transport (certificates, tokens, basic auth, exec plugins, in-cluster), without the
                   kubernetes library
exec_credential.py a kubeconfig's exec plugin run as client-go runs it, for the ExecCredential it prints
auth_provider.py   the one bounded use of the kubernetes library: a kubeconfig user with an auth provider (OIDC)
retry.py           the one retry policy, reads and writes alike: 429/5xx with Retry-After tried again, as client-go
auth_spec.py       the host-cluster connection options, their GPVE_HOST_CLUSTER_* and K8S_AUTH_* variables
api.py             bounded JSON requests on any path (the read side, gpve_kubeconfig's ServiceAccount and CSR calls)
resources.py       the kinds gpve manages, read / server-side apply (dry run for check mode) / delete
reconcile.py       desired objects against live ones: what changes, before/after for diff mode
wait.py            polling on the monotonic clock until a condition holds
errors.py          typed errors; an API refusal names the object and the server's reason
"""
