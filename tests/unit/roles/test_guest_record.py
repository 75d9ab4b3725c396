"""The guest step record (playbook_support.guest_record): one JSON line per step, 0600, and
concurrent appends from separate processes never interleave or get lost."""

from __future__ import annotations

import multiprocessing
import stat

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import guest_record

pytestmark = pytest.mark.roles


def writer(path, host, count):
    for index in range(count):
        guest_record.append(path, guest_record.entry("step", host, "c", {"index": index, "pad": "x" * 5000}))


def test_records_are_json_lines_in_a_private_file(tmp_path):
    path = tmp_path / "nested" / "record.jsonl"
    assert guest_record.append(str(path), guest_record.entry("kubeadm-init", "cp-1", "demo", {"config": "a: 1"})) == 1
    assert guest_record.append(str(path), guest_record.entry("kubeadm-join", "cp-2", "demo", {})) == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    records = guest_record.read(str(path))
    assert [(r["step"], r["host"]) for r in records] == [("kubeadm-init", "cp-1"), ("kubeadm-join", "cp-2")]
    assert records[0]["data"] == {"config": "a: 1"} and records[0]["cluster"] == "demo"


def test_concurrent_appends_keep_every_line_whole(tmp_path):
    path = str(tmp_path / "record.jsonl")
    processes = [multiprocessing.Process(target=writer, args=(path, f"host-{n}", 40)) for n in range(6)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    records = guest_record.read(path)
    assert len(records) == 240
    for n in range(6):
        assert [r["data"]["index"] for r in records if r["host"] == f"host-{n}"] == list(range(40))
