"""The guest recorder: playbooks run against VMs that run nothing, for the distributions that cannot run here.

``recorder_env(record, kubeconfig)`` is the environment that sends every task on a VM to the connection plugin
connection_plugins/guest_recorder.py and puts bin/talosctl first on PATH; both append JSON lines to ``record``
(see their docstrings) and answer plausibly, reading ``kubeconfig`` back wherever a role fetches the admin
kubeconfig. ``kubeconfig_servers(url)`` are the extra vars that point the fetched kubeconfig at ``url`` (the
testbed's API server standing in for the cluster's) instead of the virtual IP nobody holds.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def recorder_env(record: Path, kubeconfig: str) -> dict:
    return {"ANSIBLE_CONNECTION_PLUGINS": str(HERE / "connection_plugins"), "ANSIBLE_TRANSPORT": "guest_recorder",
            "GPVE_RECORDER_FILE": str(record), "GPVE_RECORDER_KUBECONFIG": str(kubeconfig),
            # bin/talosctl's "#!/usr/bin/env python" (the shebang sanity allows) finds this interpreter first.
            "PATH": os.pathsep.join([str(HERE / "bin"), str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def kubeconfig_servers(url: str) -> dict:
    return {f"{distribution}_kubeconfig_server": url for distribution in ("kubeadm", "k3s", "rke2", "k0s")}


def read(record: Path) -> list[dict]:
    if not Path(record).exists():
        return []
    return [json.loads(line) for line in Path(record).read_text().splitlines() if line.strip()]


def file_path(path):
    """A path as the node sees it: node_prep writes //etc/... (normpath of "/" ~ "/etc/..."), the same file."""
    return re.sub("^/+", "/", path) if isinstance(path, str) else path


def calls(records: list[dict], module: str, **args) -> list[dict]:
    """The module calls of records, in order, whose arguments hold every key=value of args (argv0: argv[0];
    dest and path compared as file paths)."""
    found = []
    for record in records:
        given = record.get("args")
        if record.get("module") != module or not isinstance(given, dict):
            continue
        wanted = dict(args)
        if "argv0" in wanted and (given.get("argv") or [None])[0] != wanted.pop("argv0"):
            continue
        if all((file_path(given.get(key)) if key in ("dest", "path") else given.get(key)) == value for key, value in wanted.items()):
            found.append(record)
    return found


def shown_secret(records: list[dict], secret: str) -> list[dict]:
    """The calls that carry secret in a task Ansible shows (not no_log): a node gets its secrets in no_log tasks only."""
    return [record for record in records if secret in json.dumps(record) and not record.get("no_log")]


def hosts(records: list[dict]) -> list[str]:
    return [record["host"] for record in records]


def written(records: list[dict], dest: str) -> list[dict]:
    """The copies to dest, in order: {"host", "content"}."""
    return [{"host": r["host"], "content": r["args"].get("content")} for r in calls(records, "copy", dest=dest)]
