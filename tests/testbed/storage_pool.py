"""Pre-made PersistentVolumes and a default StorageClass, so the real PV controller binds claims.

The scheduler places a pod only once its volume claims are bound. Nothing provisions
volumes here, so the testbed creates a pool up front: hostPath volumes in a default
StorageClass with ``kubernetes.io/no-provisioner`` and ``volumeBindingMode: Immediate``.
With real nodes each volume is a directory on one node (``/var/lib/gpve-volumes/<name>``,
created by the kubelet on first mount) with a node affinity to it, as local volumes are:
a pod whose claim bound it runs on that node, and finds its data there after a restart. The controller manager's persistentvolume-binder binds
each claim to the smallest free volume that fits. Volumes keep the ``Retain`` policy: a
volume whose claim is deleted becomes Released and is not handed out again, until
``reclaim_released`` gives it back to the pool (what a provisioner with the Delete policy
would do; a reclaimed volume's old files stay on its node).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kubernetes import client
from kubernetes.client.rest import ApiException

STORAGE_CLASS = "testbed-local"
POOL_LABEL = "gpve.io/testbed-pool"
ACCESS_MODES = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"]
# 200 volumes of 1..10Gi (20 of each size), and a few large ones for claims that ask more.
POOL_SIZES_GI = [1 + i % 10 for i in range(200)] + [20] * 8 + [50] * 8 + [100] * 8


def storage_class() -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": STORAGE_CLASS,
                         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate",
            "reclaimPolicy": "Retain"}


NODE_VOLUMES_DIR = Path("/var/lib/gpve-volumes")


def persistent_volume(index: int, size_gi: int, volumes_dir: Path, node: str | None = None) -> dict:
    """One pool volume; on node (a directory there, pinned to it) or, without one, never mounted (stand-in)."""
    name = f"testbed-pv-{index:03d}"
    spec = {"capacity": {"storage": f"{size_gi}Gi"}, "accessModes": ACCESS_MODES,
            "persistentVolumeReclaimPolicy": "Retain", "storageClassName": STORAGE_CLASS,
            "hostPath": {"path": str(volumes_dir / name)}}
    if node is not None:
        spec["hostPath"] = {"path": str(NODE_VOLUMES_DIR / name), "type": "DirectoryOrCreate"}
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": {POOL_LABEL: "true", "gpve.io/testbed-size": f"{size_gi}Gi"}},
            "spec": spec}


def _create(call, body: dict) -> None:
    try:
        call(body)
    except ApiException as exc:
        if exc.status != 409:
            raise


def create_pool(api: client.ApiClient, volumes_dir: Path, nodes: list[str] = (),
                sizes_gi: list[int] = POOL_SIZES_GI) -> int:
    """Create the StorageClass and the volumes, spread over nodes (existing ones are left alone); returns the pool size."""
    _create(client.StorageV1Api(api).create_storage_class, storage_class())
    core = client.CoreV1Api(api)
    bodies = [persistent_volume(i, size, volumes_dir, nodes[i % len(nodes)] if nodes else None)
              for i, size in enumerate(sizes_gi, 1)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda body: _create(core.create_persistent_volume, body), bodies))
    return len(bodies)


def available(api: client.ApiClient) -> int:
    """How many pool volumes are still free (phase Available)."""
    volumes = client.CoreV1Api(api).list_persistent_volume(label_selector=f"{POOL_LABEL}=true").items
    return sum(1 for volume in volumes if volume.status and volume.status.phase == "Available")


def reclaim_released(api: client.ApiClient, namespace_prefix: str = "") -> int:
    """Make the pool's Released volumes Available again (their claim reference removed); returns how many.

    namespace_prefix: only the volumes whose deleted claim lived in a namespace named so.
    """
    core = client.CoreV1Api(api)
    volumes = core.list_persistent_volume(label_selector=f"{POOL_LABEL}=true").items
    released = [volume.metadata.name for volume in volumes
                if volume.status and volume.status.phase == "Released" and volume.spec.claim_ref
                and (volume.spec.claim_ref.namespace or "").startswith(namespace_prefix)]
    unclaim = [{"op": "remove", "path": "/spec/claimRef"}]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda name: core.patch_persistent_volume(name, unclaim), released))
    return len(released)
