# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``gpve.cluster.gpve`` inventory plugin shows, built from one registry snapshot.

names.py   host and group names (Ansible-safe group names)
model.py   clusters and K8s-on-VM nodes as hosts with their variables, and the groups they are in
"""
