# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup and restore of registered clusters (gpve_cluster_backup).

rest.py        generic API calls on any resource (paginated list, create, apply, get)
discovery.py   which resources the API server serves (preferred versions, verbs)
filters.py     include/exclude of namespaces and resources, system namespaces
sanitize.py    server-populated fields stripped so objects re-apply; objects a controller rebuilds
export.py      discovery + list + filter + sanitize: the members of a resources backup
secrets.py     Secrets sealed in the archive with the registry's keyring
archive.py     tar.gz with a manifest (sha256 per member), verified before anything is restored
storage/       where archives live: local directory or S3 (multipart for big archives)
etcd.py        etcdctl / etcdutl: snapshot save, status, restore into a new data dir
planner.py     restore order (Velero's priorities), filters, namespace mapping
restorer.py    creates / updates objects in order, waits for CRDs, reports per kind
retention.py   expiry and which backups a prune removes
service.py     the three states of the module over the registry: present, restored, absent
"""
