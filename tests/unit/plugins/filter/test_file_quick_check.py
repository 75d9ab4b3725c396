"""gpve.cluster.file_quick_check: what the air-gap role compares with a node's copies."""

from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gpve.cluster.plugins.filter.file_quick_check import FilterModule

pytestmark = pytest.mark.roles

quick_check = FilterModule().filters()["file_quick_check"]


def test_each_file_gives_its_size_and_whole_second_time_in_the_order_given(tmp_path):
    first, second = tmp_path / "b.tar", tmp_path / "a.deb"
    first.write_bytes(b"12345")
    second.write_bytes(b"")
    os.utime(first, (1700000000.75, 1700000000.75))
    assert quick_check([str(first), str(second)]) == [
        {"path": str(first), "size": 5, "mtime": 1700000000},
        {"path": str(second), "size": 0, "mtime": int(second.stat().st_mtime)}]


def test_a_symlink_gives_the_file_it_names(tmp_path):
    target = tmp_path / "cache" / "kube-proxy.tar"
    target.parent.mkdir()
    target.write_bytes(b"x" * 100)
    link = tmp_path / "kube-proxy.tar"
    link.symlink_to(target)
    assert quick_check([str(link)])[0]["size"] == 100


def test_a_missing_file_fails_naming_it(tmp_path):
    with pytest.raises(AnsibleFilterError, match=f"cannot read {tmp_path}/gone.deb: No such file"):
        quick_check([str(tmp_path / "gone.deb")])
