# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""K8s-on-VM clusters in the registry against their VMs in Proxmox VE.

compare.py   one cluster's registry nodes against the VMs tagged with its id (and their configs): missing, extra, stopped,
             resized, moved
proxmox.py   the VMs of every cluster from one bulk /cluster/resources read, their configs (bounded parallel reads),
             and the report per cluster
"""
