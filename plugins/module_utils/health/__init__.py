# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live health of a registered cluster, after the seed's Health Monitoring, corrected.

status.py      healthy / degraded / unhealthy / unknown, one Check record (name, status, message, duration)
targets.py     what to probe for a cluster: declared component and etcd health endpoints, etcd members
http_probe.py  one bounded HTTPS GET of a component's or etcd member's own health endpoint
checks.py      the checks: API server (/readyz and a namespace list), control-plane components, nodes
               Ready, etcd quorum; and what they observe (version, node and pod counts, pods by phase)
verdict.py     the overall status with the seed's failure threshold, kept as the ``Healthy`` condition
runner.py      every check of one cluster, and many clusters at once on threads
etcd_client.py the etcd-client credential document (ca, cert, key PEMs), checked and canonical

ComponentStatus is deprecated and not used: a component is judged by its own health
endpoint when the registry knows it, else by its kube-system pods, else by its leader lease.
"""
