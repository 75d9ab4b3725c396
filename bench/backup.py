"""Backup benchmark: gpve_cluster_backup against `kubectl get -o yaml` + `kubectl apply` on the testbed.

Creates OBJECTS ConfigMaps and Secrets spread over NAMESPACES namespaces, then, in the
same run and on the same objects:

- ours: a resources backup of those namespaces (discovery, lists, Secrets sealed, archive
  written and checksummed), the objects deleted, a restore (archive verified, objects
  created in Velero's order);
- kubectl: one `kubectl get configmaps,secrets -A -l <run> -o yaml` export, the objects
  deleted, `kubectl apply -f` of the export (server-populated fields stripped first, as
  anyone re-applying an export must; that stripping is counted in kubectl's time).

Throughput is objects per second for each half. The last line is ``ratio=`` the kubectl
pair's total time over ours (above 1: ours is faster; the goal).

    python bench/backup.py [--size tiny|full]

``--size`` defaults to ``GPVE_BENCH_SIZE``, else full (5,000 objects across 50 namespaces).
The testbed is the one ``GPVE_TESTBED_ENV`` names (``make testbed-up``), else a fresh one,
stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
for import_root in (REPO / ".build" / "collections", REPO):
    if import_root.is_dir() and str(import_root) not in sys.path:
        sys.path.insert(0, str(import_root))

from ansible_collections.gpve.cluster.plugins.module_utils.backup.filters import Filters  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.backup.request import BackupRequest  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.backup.rest import Rest, resource_path  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.backup.service import BackupService  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.crypto import generate_key  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry  # noqa: E402
from tests.testbed.kube import kube_bin_dir  # noqa: E402
from tests.testbed.processes import wait_until  # noqa: E402

SIZES = {"full": {"objects": 5000, "namespaces": 50}, "tiny": {"objects": 100, "namespaces": 5}}
SECRET_EVERY = 5  # one object in five is a Secret
KINDS = ("configmaps", "secrets")
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink", "generation")


@contextmanager
def running_testbed(scratch):
    from tests.testbed.testbed import Testbed

    env_file = os.environ.get("GPVE_TESTBED_ENV")
    if env_file and Path(env_file).is_file():
        testbed = Testbed.load(Path(env_file).parent)
        testbed.ensure_running()
        yield testbed
        return
    testbed = Testbed.create(Path(scratch) / "testbed")
    try:
        yield testbed
    finally:
        testbed.stop()


def populate(rest, run, size):
    """Namespaces bench-<run>-NN with their share of ConfigMaps and Secrets, created in parallel."""
    namespaces = [f"bench-{run}-{index:02d}" for index in range(size["namespaces"])]
    for namespace in namespaces:
        namespace_object = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        rest.create(resource_path("", "v1", "namespaces"), namespace_object, namespace)
    objects = [_object(run, namespaces[index % len(namespaces)], index) for index in range(size["objects"])]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda obj: rest.create(resource_path("", "v1", obj["kind"].lower() + "s", obj["metadata"]["namespace"]),
                                              obj, obj["metadata"]["name"]), objects))
    return namespaces


def _object(run, namespace, index):
    metadata = {"name": f"obj-{index:05d}", "namespace": namespace, "labels": {"gpve-bench": run}}
    payload = {"index": str(index), "blob": uuid.uuid4().hex * 4}
    if index % SECRET_EVERY == 0:
        return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "stringData": payload}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": payload}


def delete_objects(rest, namespaces, run):
    """Delete every benchmark object (one deletecollection per namespace and kind) and wait until they are gone."""
    for namespace in namespaces:
        for kind in KINDS:
            rest.call("DELETE", resource_path("", "v1", kind, namespace), f"delete {kind} in {namespace}",
                      query=[("labelSelector", f"gpve-bench={run}")])
    wait_until(lambda: _labelled(rest, run) == 0, 300, "benchmark objects deleted")


def _labelled(rest, run):
    total = 0
    for kind in KINDS:
        total += len(rest.call("GET", resource_path("", "v1", kind), "count", query=[("labelSelector", f"gpve-bench={run}")])
                     .get("items") or [])
    return total


def timed(work):
    started = time.monotonic()
    result = work()
    return time.monotonic() - started, result


def kubectl_export(kubectl, kubeconfig, run, path):
    argv = [kubectl, f"--kubeconfig={kubeconfig}", "get", ",".join(KINDS), "--all-namespaces", "-l", f"gpve-bench={run}",
            "-o", "yaml"]
    with open(path, "wb") as out:
        subprocess.run(argv, stdout=out, check=True)


def kubectl_apply(kubectl, kubeconfig, export_path, apply_path):
    document = yaml.safe_load(Path(export_path).read_text())
    for item in document.get("items") or []:
        for field in SERVER_FIELDS:
            item["metadata"].pop(field, None)
    Path(apply_path).write_text(yaml.safe_dump(document))
    subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", "apply", "-f", apply_path], stdout=subprocess.DEVNULL,
                   check=True)


def run_benchmark(testbed, size, scratch):
    run = "r" + uuid.uuid4().hex[:6]  # a letter first: YAML parsers must all read it as a string
    kubeconfig = testbed.kubeconfig
    kubectl = str(kube_bin_dir() / "kubectl")
    store = open_registry(str(Path(scratch) / "registry.db"), encryption_key=_key(), environ={})
    cluster = store.create_cluster(f"bench-{run}", "external", spec={"endpoint": testbed.api_url})
    store.put_credential(cluster.id, "kubeconfig", Path(kubeconfig).read_text())
    rest = Rest(connect(kubeconfig=Path(kubeconfig).read_text(), pool_size=16))
    namespaces = populate(rest, run, size)
    total = size["objects"]
    storage = {"type": "local", "path": str(Path(scratch) / "backups")}
    service = BackupService(store, work_root=scratch)
    try:
        ours_backup_s, taken = timed(lambda: service.run(BackupRequest(
            cluster=cluster.name, type="resources", storage=storage,
            filters=Filters(include_namespaces=[f"bench-{run}-*"], include_resources=list(KINDS)))))
        assert taken["total_objects"] == total, taken["counts"]
        export, apply = Path(scratch) / "export.yaml", Path(scratch) / "apply.yaml"
        kubectl_get_s, _none = timed(lambda: kubectl_export(kubectl, kubeconfig, run, export))

        delete_objects(rest, namespaces, run)
        kubectl_apply_s, _none = timed(lambda: kubectl_apply(kubectl, kubeconfig, export, apply))
        assert _labelled(rest, run) == total
        delete_objects(rest, namespaces, run)
        ours_restore_s, restored = timed(lambda: service.run(BackupRequest(
            state="restored", backup_id=taken["backup"]["id"], storage=storage)))
        assert restored["restore"]["totals"]["created"] == total, restored["restore"]["totals"]
        assert _labelled(rest, run) == total
    finally:
        for namespace in namespaces:
            rest.call("DELETE", resource_path("", "v1", "namespaces", name=namespace), f"delete {namespace}")
        rest.connection.close()
        store.close()
    return {"objects": total, "ours_backup_s": ours_backup_s, "ours_restore_s": ours_restore_s,
            "kubectl_get_s": kubectl_get_s, "kubectl_apply_s": kubectl_apply_s,
            "archive_bytes": taken["size_bytes"]}


def _key():
    import base64

    return base64.b64encode(generate_key()).decode()


def report(result):
    objects = result["objects"]
    for label, seconds in (("ours backup", result["ours_backup_s"]), ("kubectl get -o yaml", result["kubectl_get_s"]),
                           ("ours restore", result["ours_restore_s"]), ("kubectl apply", result["kubectl_apply_s"])):
        print(f"{label:<20} {seconds:7.2f} s  {objects / seconds:8.0f} objects/s")
    ours = result["ours_backup_s"] + result["ours_restore_s"]
    theirs = result["kubectl_get_s"] + result["kubectl_apply_s"]
    print(f"archive {result['archive_bytes']} bytes; pair totals: ours {ours:.2f} s, kubectl {theirs:.2f} s")
    print(f"ratio={theirs / ours:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=os.environ.get("GPVE_BENCH_SIZE", "full"))
    options = parser.parse_args()
    size = SIZES[options.size]
    print(f"backup benchmark, size {options.size}: {size['objects']} objects across {size['namespaces']} namespaces; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="gpve-bench-backup-") as scratch, running_testbed(scratch) as testbed:
        report(run_benchmark(testbed, size, scratch))


if __name__ == "__main__":
    main()
