# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster metrics in the Prometheus text exposition format, for node_exporter's textfile collector.

exposition.py  metric families, label escaping, the text format (version 0.0.4)
clusters.py    the gpve_cluster_* families from registry records and live health results
textfile.py    writing a .prom file atomically (readers never see half a file)
"""
