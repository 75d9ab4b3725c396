"""A leaving control plane's etcd member, found in etcd's own member list (etcdctl member list -w json)."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gpve.cluster.plugins.filter.etcd_members_of import FilterModule

pytestmark = pytest.mark.k8s_vm

members_of = FilterModule().filters()["etcd_members_of"]

# As etcdctl 3.7 prints it: IDs in decimal, above 2^63 for some.
LISTED = {"header": {"cluster_id": 14841639068965178418, "member_id": 10276657743932975437, "revision": 4},
          "members": [
              {"ID": 10276657743932975437, "name": "lab-cp-1", "peerURLs": ["https://10.0.0.11:2380"],
               "clientURLs": ["https://10.0.0.11:2379"]},
              {"ID": 1609961931123480271, "name": "lab-cp-2", "peerURLs": ["https://10.0.0.12:2380"],
               "clientURLs": ["https://10.0.0.12:2379"]},
              {"ID": 17295939391427350042, "peerURLs": ["https://[fd00::13]:2380"], "isLearner": False}]}
CP2 = {"name": "lab-cp-2", "ip": "10.0.0.12"}
CP3 = {"name": "lab-cp-3", "ip": "fd00:0::13"}


def test_a_member_named_after_the_node_comes_with_its_id_in_hex():
    assert members_of(json.dumps(LISTED), [CP2]) == [
        {"id": "1657bbd8ae8456cf", "name": "lab-cp-2", "peer_urls": ["https://10.0.0.12:2380"], "node": "lab-cp-2"}]
    assert int("1657bbd8ae8456cf", 16) == 1609961931123480271


def test_a_member_that_never_started_is_found_by_its_peer_address():
    found = members_of(LISTED, [CP3, CP2])
    assert [(m["node"], m["name"], m["id"]) for m in found] == [("lab-cp-2", "lab-cp-2", "1657bbd8ae8456cf"),
                                                                ("lab-cp-3", "", format(17295939391427350042, "x"))]


def test_a_node_without_a_member_finds_nothing():
    assert members_of(LISTED, [{"name": "lab-cp-4", "ip": "10.0.0.14"}]) == []
    assert members_of({"members": []}, [CP2]) == []


@pytest.mark.parametrize("listed, message", [
    ("{}", "no members"), ("not json", "Expecting value"), ({"members": [{"name": "x"}]}, "without an ID")])
def test_what_is_no_member_list_is_refused(listed, message):
    with pytest.raises(AnsibleFilterError, match="etcd_members_of: .*" + message):
        members_of(listed, [CP2])
