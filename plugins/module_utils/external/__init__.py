# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Imported external clusters (gpve_external_cluster), after the seed's External Cluster Manager.

access.py     the kubeconfig to store: one context of a given kubeconfig, flattened (files read in),
              or one built from a ClusterConnection (endpoint, CA, token / certificate / oidc / exec auth)
discovery.py  connectivity first (a clear message for refused credentials or an unreachable server),
              then version, nodes, ready nodes, pods and namespaces
service.py    import (nothing written until the cluster answered), refresh, disconnect (state absent)
"""
