# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gpve_cluster_info: one view of every cluster in the registry.

query.py     which clusters (type, phase, labels, name or id, limit, offset) and the bulk reads around them
views.py     a cluster as returned: a summary, or in full (spec, status, nodes, events, backups, credentials)
health.py    live health of the selected clusters, and writing it back (status, heartbeat, an event on change)
service.py   one run: query, optional health and drift, optional Prometheus text and textfile
"""
