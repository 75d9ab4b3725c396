# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talking to a Kubernetes API server (a host cluster, or a managed cluster).

auth_spec.py       the host-cluster connection options, their GPVE_HOST_CLUSTER_* and K8S_AUTH_* variables
client.py          a client for the host cluster from those options (host + token or certificate, kubeconfig, in-cluster)
transport.py       the small HTTPS transport most connections use (certificates and tokens), without the kubernetes library
cluster_client.py  the kubernetes ApiClient for a kubeconfig (a registered cluster's stored one included), and the
                   bounded reads the read side makes
retry.py           the one retry policy, reads and writes alike: 429/5xx with Retry-After tried again, as client-go
resources.py       the kinds gpve manages, read / server-side apply (dry run for check mode) / delete
reconcile.py       desired objects against live ones: what changes, before/after for diff mode
wait.py            polling on the monotonic clock until a condition holds
errors.py          typed errors; an API refusal names the object and the server's reason
"""
