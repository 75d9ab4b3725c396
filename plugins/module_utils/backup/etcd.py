# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""etcd snapshots through the distribution's own tools (Debian: etcd-client).

- save: ``etcdctl snapshot save`` against one endpoint (the next one is tried if it fails);
- status: ``etcdutl snapshot status`` (etcd 3.5+) or ``etcdctl snapshot status`` (3.4), as
  JSON: hash, revision, total keys, total size. A snapshot that does not read is refused;
- restore: ``etcdutl snapshot restore`` (or ``etcdctl`` on 3.4) into a data dir that must
  not exist yet, with the member's name and the new cluster's peer URLs. The restore checks
  the integrity hash etcd appended to the snapshot.

The tools' own messages come back in EtcdError (they hold no key material).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import EtcdError

DEFAULT_TIMEOUT = 600
_TAIL = 1500


def find_tool(name, explicit=None):
    """Path of etcdctl / etcdutl: explicit if given, else from PATH; None when absent."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which(name)


def _run(argv, what, timeout=DEFAULT_TIMEOUT):
    env = dict(os.environ, ETCDCTL_API="3")
    try:
        completed = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout,
                                   check=False)
    except FileNotFoundError:
        raise EtcdError(f"{what}: {argv[0]} not found; install etcd-client (Debian) or give its path") from None
    except subprocess.TimeoutExpired:
        raise EtcdError(f"{what}: {os.path.basename(argv[0])} did not finish within {timeout}s") from None
    if completed.returncode != 0:
        message = (completed.stderr or completed.stdout).decode("utf-8", "replace").strip()[-_TAIL:]
        raise EtcdError(f"{what}: {os.path.basename(argv[0])} exited {completed.returncode}: {message}")
    return completed.stdout.decode("utf-8", "replace")


def _tls_flags(cacert=None, cert=None, key=None):
    flags = []
    for flag, value in (("--cacert", cacert), ("--cert", cert), ("--key", key)):
        if value:
            flags.append(f"{flag}={value}")
    return flags


def save_snapshot(endpoints, destination, cacert=None, cert=None, key=None, etcdctl=None, timeout=DEFAULT_TIMEOUT):
    """Save a snapshot of the cluster behind endpoints to destination; returns the endpoint that served it."""
    tool = find_tool("etcdctl", etcdctl)
    if tool is None:
        raise EtcdError("etcd snapshot: etcdctl not found; install etcd-client (Debian) or set etcd.etcdctl")
    errors = []
    for endpoint in endpoints:
        try:
            _run([tool, f"--endpoints={endpoint}", *_tls_flags(cacert, cert, key), "snapshot", "save", destination],
                 f"etcdctl snapshot save from {endpoint}", timeout)
            return endpoint
        except EtcdError as error:
            errors.append(str(error))
    raise EtcdError("etcd snapshot failed on every endpoint: " + " | ".join(errors))


def snapshot_status(path, etcdctl=None, etcdutl=None):
    """hash, revision, total_keys and total_size of a snapshot file, read by etcd's own tool."""
    utl = find_tool("etcdutl", etcdutl)
    tool = utl or find_tool("etcdctl", etcdctl)
    if tool is None:
        raise EtcdError("etcd snapshot status: neither etcdutl nor etcdctl is installed")
    output = _run([tool, "snapshot", "status", path, "-w", "json"], f"snapshot status of {os.path.basename(path)}")
    try:
        status = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise EtcdError(f"snapshot status of {os.path.basename(path)}: unexpected output {output[-_TAIL:]!r}") from None
    if not status.get("totalKey"):
        raise EtcdError(f"snapshot {os.path.basename(path)} holds no keys: not a usable etcd snapshot")
    return {"hash": status.get("hash"), "revision": status.get("revision"), "total_keys": status.get("totalKey"),
            "total_size": status.get("totalSize")}


def restore_snapshot(path, data_dir, name, initial_cluster, initial_advertise_peer_urls,
                     initial_cluster_token="etcd-cluster", etcdctl=None, etcdutl=None):
    """Restore the snapshot into data_dir (which must not exist) for member name of the new cluster."""
    if os.path.exists(data_dir) and os.listdir(data_dir):
        raise EtcdError(f"etcd restore: data dir {data_dir} exists and is not empty; restore into a new directory")
    utl = find_tool("etcdutl", etcdutl)
    tool = utl or find_tool("etcdctl", etcdctl)
    if tool is None:
        raise EtcdError("etcd restore: neither etcdutl nor etcdctl is installed")
    _run([tool, "snapshot", "restore", path, f"--data-dir={data_dir}", f"--name={name}",
          f"--initial-cluster={initial_cluster}", f"--initial-cluster-token={initial_cluster_token}",
          f"--initial-advertise-peer-urls={initial_advertise_peer_urls}"],
         f"snapshot restore into {data_dir}")
    return {"data_dir": data_dir, "name": name, "tool": os.path.basename(tool)}


def tool_version(etcdctl=None):
    """etcdctl's version line (e.g. 3.4.23), or None when it is not installed."""
    tool = find_tool("etcdctl", etcdctl)
    if tool is None:
        return None
    first = _run([tool, "version"], "etcdctl version").splitlines()[0]
    return first.rsplit(":", 1)[-1].strip()
