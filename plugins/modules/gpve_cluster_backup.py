#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_cluster_backup
short_description: Back up and restore registered Kubernetes clusters (resources and etcd)
version_added: 0.1.0
description:
  - Takes, restores and deletes backups of any cluster in the gpve cluster registry (vCluster, K8s-on-VM, external),
    through the kubeconfig the registry stores for it.
  - A C(resources) backup holds every listable namespaced and cluster-scoped resource found by API discovery,
    filtered as asked, with the fields the server fills in stripped so the objects re-apply cleanly. Objects a
    controller rebuilds (Pods of a ReplicaSet, ReplicaSets of a Deployment, service account tokens, events, nodes...)
    are left out. Secrets are included, sealed in the archive with the registry's encryption keyring.
  - An C(etcd) backup holds an etcd snapshot taken with C(etcdctl snapshot save) (or one the C(gpve.cluster.etcd_backup)
    role took on a control plane), checked with C(snapshot status). A C(full) backup holds both.
  - The archive is a tar.gz with a manifest (cluster, type, time, versions, object counts, the sha256 of every member)
    and the cluster's registry record, written atomically to a local directory or to S3 (multipart upload for big
    archives). The registry's backups table tracks its status, location, size and expiry.
  - A restore verifies the whole archive before it touches the cluster, then creates objects in Velero's priority
    order (CRDs, waiting until they are served, Namespaces, StorageClasses, PersistentVolumes, claims, Secrets,
    ConfigMaps, ServiceAccounts, LimitRanges, Pods, ReplicaSets, then the rest alphabetically). It is
    non-destructive by default, can map namespaces, and reports per resource what was created, skipped, updated or
    failed. Restoring etcd onto control planes is done by the playbook C(gpve.cluster.backup.restore_etcd).
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.attributes
  - gpve.cluster.registry
attributes:
  check_mode:
    support: full
    details:
      - O(state=present) reads the cluster and returns what would be backed up (counts per resource); nothing is written.
      - O(state=restored) verifies the archive and returns what would be created, skipped or updated; nothing is written.
      - O(state=absent) returns the backups that would be deleted.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: O(state=present) takes a new backup each run. O(state=restored) with the default policy and O(state=absent)
      change nothing the second time.
options:
  cluster:
    description:
      - The cluster to back up, by name or id. Required with O(state=present).
      - With O(state=restored), the cluster to restore into; defaults to the cluster the backup was taken of.
      - With O(state=absent) and O(prune=true), limits the prune to that cluster's backups.
    type: str
  state:
    description:
      - V(present) takes a backup. V(restored) restores the backup O(backup_id). V(absent) deletes the backup
        O(backup_id) (archive and record), or with O(prune=true) every expired one.
    type: str
    choices: [present, restored, absent]
    default: present
  backup_id:
    description: The backup to restore or delete (the C(id) returned when it was taken).
    type: str
  type:
    description:
      - What the backup holds. V(resources) the Kubernetes objects, V(etcd) an etcd snapshot, V(full) both (the
        etcd part when O(etcd) or O(etcd_snapshot) is given; required for K8s-on-VM clusters).
      - With O(state=restored), which part of the backup to restore; defaults to everything it holds.
      - Defaults to V(full) with O(state=present).
    type: str
    choices: [full, etcd, resources]
  include_namespaces:
    description:
      - Namespaces to back up or restore, names or shell-style globs (V(team-*)). Default is every namespace.
    type: list
    elements: str
  exclude_namespaces:
    description: Namespaces (names or globs) to leave out; wins over O(include_namespaces).
    type: list
    elements: str
  include_resources:
    description:
      - Resources to back up or restore, named as Velero names them (V(configmaps), V(deployments.apps)) or by kind
        (V(ConfigMap)); V(*) is all. Default is all but those a cluster rebuilds (events, nodes, endpoint slices,
        leases, CSI nodes, volume attachments, certificate signing requests), which only a literal name includes.
    type: list
    elements: str
  exclude_resources:
    description: Resources to leave out; wins over O(include_resources).
    type: list
    elements: str
  include_cluster_resources:
    description:
      - V(true) includes every cluster-scoped resource, V(false) none (Namespace objects of included namespaces still
        come along).
      - Unset includes all of them when every namespace is backed up, and otherwise only those the namespaced objects
        need (the CRDs of their custom resources, the PersistentVolumes of their claims).
    type: bool
  include_system_namespaces:
    description: Include kube-system, kube-public and kube-node-lease even when O(include_namespaces) is a glob.
    type: bool
    default: false
  existing_resource_policy:
    description:
      - What a restore does with an object that already exists. V(none) leaves it untouched (skipped).
        V(update) brings it to the backed-up state by server-side apply (fields the backup does not set are kept).
    type: str
    choices: [none, update]
    default: none
  namespace_mapping:
    description:
      - Restore the objects of a backed-up namespace into another one, a mapping of old name to new name.
        Volume claim references and ServiceAccount subjects of bindings follow.
    type: dict
  storage:
    description: Where archives are written (O(state=present)) and where to find them for restore and delete.
    type: dict
    suboptions:
      type:
        description:
          - V(local) (a directory) or V(s3).
          - Environment fallback C(GPVE_BACKUP_STORAGE_BACKEND).
        type: str
        choices: [local, s3]
        default: local
      path:
        description:
          - Directory of local archives (created 0700). Default C($XDG_DATA_HOME/gpve/backups)
            (C(~/.local/share/gpve/backups)).
          - Environment fallback C(GPVE_BACKUP_PATH).
        type: path
      bucket:
        description:
          - S3 bucket (it must exist).
          - Environment fallback C(GPVE_BACKUP_S3_BUCKET).
        type: str
      prefix:
        description:
          - Key prefix inside the bucket.
          - Environment fallback C(GPVE_BACKUP_S3_PREFIX).
        type: str
      endpoint_url:
        description:
          - S3 endpoint of an S3-compatible service (MinIO, Ceph RGW...); unset is AWS.
          - Environment fallback C(GPVE_BACKUP_S3_ENDPOINT).
        type: str
      region:
        description:
          - S3 region; V(us-east-1) when unset.
          - Environment fallback C(GPVE_BACKUP_S3_REGION).
        type: str
      access_key:
        description:
          - S3 access key; unset uses boto3's own credential chain.
          - Environment fallback C(GPVE_BACKUP_S3_ACCESS_KEY).
        type: str
      secret_key:
        description:
          - S3 secret key.
          - Environment fallback C(GPVE_BACKUP_S3_SECRET_KEY).
        type: str
  retention_hours:
    description:
      - How long a new backup is kept, in hours; it expires that long after it started and is then removed by
        O(state=absent) with O(prune=true). V(0) keeps it until deleted by id.
    type: int
    default: 720
  prune:
    description: With O(state=absent), delete every finished backup whose retention has passed.
    type: bool
    default: false
  etcd:
    description: Take the etcd snapshot from here (the controller must reach the endpoints).
    type: dict
    suboptions:
      endpoints:
        description: etcd client URLs; the first that answers serves the snapshot.
        type: list
        elements: str
        required: true
      cacert:
        description: CA bundle of the etcd servers.
        type: path
      cert:
        description: Client certificate.
        type: path
      key:
        description: Client key.
        type: path
      etcdctl:
        description: Path of etcdctl (default from C(PATH); Debian package etcd-client).
        type: path
      etcdutl:
        description: Path of etcdutl (etcd 3.5 and later; etcdctl is used without it).
        type: path
  etcd_snapshot:
    description:
      - With O(state=present), a snapshot file already taken (by the C(gpve.cluster.etcd_backup) role) to archive
        instead of taking one.
      - With O(state=restored), where to write the verified snapshot (0600) for the restore playbook.
    type: path
  etcd_restore:
    description: With O(state=restored), restore the verified snapshot into a new etcd data directory on this host.
    type: dict
    suboptions:
      data_dir:
        description: The new data directory; it must not exist or be empty.
        type: path
        required: true
      name:
        description: The member name of the restored etcd.
        type: str
        required: true
      initial_cluster:
        description: The new cluster's members, C(name=peer-url,...).
        type: str
        required: true
      initial_advertise_peer_urls:
        description: This member's peer URLs.
        type: str
        required: true
      initial_cluster_token:
        description: The new cluster's token.
        type: str
        default: etcd-cluster
      etcdctl:
        description: Path of etcdctl.
        type: path
      etcdutl:
        description: Path of etcdutl.
        type: path
requirements:
  - kubernetes (Python)
  - boto3 (Python, for S3 storage)
  - etcdctl or etcdutl (for etcd snapshots; Debian package etcd-client)
notes:
  - Sealed Secrets are opened with the registry's keyring on restore; keep the key
    (C(GPVE_SECURITY_ENCRYPTION_KEY) or C(registry.key)), or add it to C(GPVE_SECURITY_RETIRED_KEYS) after a rotation.
seealso:
  - name: Velero restore reference
    description: The restore order and existing-resource policy followed here.
    link: https://velero.io/docs/main/restore-reference/
"""

EXAMPLES = r"""
- name: Back up the namespaces of a team, Secrets sealed, into S3
  gpve.cluster.gpve_cluster_backup:
    cluster: prod-eu
    type: resources
    include_namespaces: [team-a, team-b]
    storage:
      type: s3
      bucket: cluster-backups
      endpoint_url: https://s3.example.internal
  register: taken

- name: What a restore into another namespace would do
  gpve.cluster.gpve_cluster_backup:
    state: restored
    backup_id: "{{ taken.backup.id }}"
    namespace_mapping:
      team-a: team-a-restored
  check_mode: true

- name: Restore, overwriting objects that differ from the backup
  gpve.cluster.gpve_cluster_backup:
    state: restored
    backup_id: "{{ taken.backup.id }}"
    existing_resource_policy: update

- name: Full backup of a K8s-on-VM cluster from a snapshot the etcd_backup role fetched
  gpve.cluster.gpve_cluster_backup:
    cluster: lab
    type: full
    etcd_snapshot: /var/tmp/lab-etcd.db

- name: Delete the expired backups
  gpve.cluster.gpve_cluster_backup:
    state: absent
    prune: true
"""

RETURN = r"""
backup:
  description: The registry record of the backup taken (O(state=present)) or restored; null in check mode.
  returned: state is present or restored
  type: dict
  contains:
    id:
      description: Backup id, for O(backup_id).
      type: str
    status:
      description: C(Completed) (or C(Failed) with metadata.error).
      type: str
    storage_location:
      description: Where the archive is (C(file://...) or C(s3://bucket/key)).
      type: str
    size_bytes:
      description: Archive size.
      type: int
    expires_at:
      description: When a prune may remove it (ISO 8601), or null.
      type: str
    metadata:
      description: sha256 of the archive, counts, storage settings (no keys), filters, etcd snapshot status.
      type: dict
cluster:
  description: Name of the cluster backed up.
  returned: state is present
  type: str
counts:
  description: Objects per resource (C(configmaps), C(deployments.apps)...) in the backup.
  returned: state is present
  type: dict
total_objects:
  description: Objects in the backup.
  returned: state is present
  type: int
namespaces:
  description: Namespaces with objects in the backup.
  returned: state is present
  type: list
  elements: str
left_out:
  description: Per resource, objects left out because a controller rebuilds them.
  returned: state is present
  type: dict
unavailable_apis:
  description: API groups discovery could not read (an aggregated API down); their objects are not in the backup.
  returned: state is present
  type: list
  elements: dict
location:
  description: The archive's location (in check mode, where it would go).
  returned: state is present
  type: str
sha256:
  description: sha256 of the archive file.
  returned: state is present and not in check mode
  type: str
size_bytes:
  description: Size of the archive.
  returned: state is present and not in check mode
  type: int
etcd:
  description:
    - O(state=present) the snapshot's status (hash, revision, total_keys, total_size) and the endpoint that served it.
    - O(state=restored) the snapshot and where it was written (C(written_to)) or restored (C(data_dir)).
  returned: when the backup has an etcd part
  type: dict
verified:
  description: The archive matched its registry sha256, its manifest and every member checksum.
  returned: state is restored
  type: bool
target_cluster:
  description: Name of the cluster restored into.
  returned: state is restored
  type: str
restore:
  description:
    - The restore report; in check mode, the prediction.
    - C(resources) per resource the counts C(created), C(skipped), C(updated), C(failed); C(totals) the same summed;
      C(failures) the first 100 failed objects with the server's reason; C(planned) objects per resource;
      C(namespaces) the target namespaces.
  returned: state is restored and the backup holds resources
  type: dict
deleted:
  description: The backups deleted (or, in check mode, that would be).
  returned: state is absent
  type: list
  elements: dict
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.backup.filters import Filters
from ansible_collections.gpve.cluster.plugins.module_utils.backup.request import BackupRequest
from ansible_collections.gpve.cluster.plugins.module_utils.backup.service import BackupService
from ansible_collections.gpve.cluster.plugins.module_utils.backup.storage.s3 import BOTO3_IMPORT_ERROR, HAS_BOTO3
from ansible_collections.gpve.cluster.plugins.module_utils.kube.transport import HAS_URLLIB3, URLLIB3_IMPORT_ERROR
from ansible_collections.gpve.cluster.plugins.module_utils.module_runner import require_library
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry

FILTER_KEYS = ('include_namespaces', 'exclude_namespaces', 'include_resources', 'exclude_resources',
               'include_cluster_resources', 'include_system_namespaces')


def _env(name):
    return (env_fallback, [name])


def _names():
    return dict(type='list', elements='str')


def argument_spec():
    return dict(
        cluster=dict(type='str'),
        state=dict(type='str', choices=['present', 'restored', 'absent'], default='present'),
        backup_id=dict(type='str'),
        type=dict(type='str', choices=['full', 'etcd', 'resources']),
        include_namespaces=_names(), exclude_namespaces=_names(), include_resources=_names(),
        exclude_resources=_names(),
        include_cluster_resources=dict(type='bool'),
        include_system_namespaces=dict(type='bool', default=False),
        existing_resource_policy=dict(type='str', choices=['none', 'update'], default='none'),
        namespace_mapping=dict(type='dict'),
        storage=dict(type='dict', apply_defaults=True, options=dict(
            type=dict(type='str', choices=['local', 's3'], default='local', fallback=_env('GPVE_BACKUP_STORAGE_BACKEND')),
            path=dict(type='path', fallback=_env('GPVE_BACKUP_PATH')),
            bucket=dict(type='str', fallback=_env('GPVE_BACKUP_S3_BUCKET')),
            prefix=dict(type='str', fallback=_env('GPVE_BACKUP_S3_PREFIX')),
            endpoint_url=dict(type='str', fallback=_env('GPVE_BACKUP_S3_ENDPOINT')),
            region=dict(type='str', fallback=_env('GPVE_BACKUP_S3_REGION')),
            access_key=dict(type='str', no_log=True, fallback=_env('GPVE_BACKUP_S3_ACCESS_KEY')),
            secret_key=dict(type='str', no_log=True, fallback=_env('GPVE_BACKUP_S3_SECRET_KEY')),
        )),
        retention_hours=dict(type='int', default=720),
        prune=dict(type='bool', default=False),
        etcd=dict(type='dict', options=dict(
            endpoints=dict(type='list', elements='str', required=True), cacert=dict(type='path'),
            cert=dict(type='path'), key=dict(type='path', no_log=False), etcdctl=dict(type='path'),
            etcdutl=dict(type='path'))),
        etcd_snapshot=dict(type='path'),
        etcd_restore=dict(type='dict', options=dict(
            data_dir=dict(type='path', required=True), name=dict(type='str', required=True),
            initial_cluster=dict(type='str', required=True), initial_advertise_peer_urls=dict(type='str', required=True),
            initial_cluster_token=dict(type='str', default='etcd-cluster', no_log=False), etcdctl=dict(type='path'),
            etcdutl=dict(type='path'))),
        registry=dict(type='str'),
    )


def build_request(params, check_mode):
    return BackupRequest(
        state=params['state'], cluster=params['cluster'], backup_id=params['backup_id'], type=params['type'],
        filters=Filters(**dict((key, params[key]) for key in FILTER_KEYS)),
        existing_resource_policy=params['existing_resource_policy'], namespace_mapping=params['namespace_mapping'] or {},
        storage=params['storage'] or {}, retention_hours=params['retention_hours'], prune=params['prune'],
        etcd=params['etcd'], etcd_snapshot=params['etcd_snapshot'], etcd_restore=params['etcd_restore'],
        check_mode=check_mode)


def main():
    module = GpveModule(argument_spec=argument_spec(), supports_check_mode=True,
                        required_if=[('state', 'restored', ('backup_id',))])
    require_library(module, HAS_URLLIB3, 'kubernetes', URLLIB3_IMPORT_ERROR)
    if (module.params['storage'] or {}).get('type') == 's3':
        require_library(module, HAS_BOTO3, 'boto3', BOTO3_IMPORT_ERROR)
    run_on_registry(module, lambda store: BackupService(store).run(build_request(module.params, module.check_mode)))


if __name__ == '__main__':
    main()
