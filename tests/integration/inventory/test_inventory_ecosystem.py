"""The inventory as Ansible users set it up elsewhere: keyed_groups on labels group the nodes with their cluster,
hostnames as amazon.aws's aws_ec2 has them, and a registry option that is templated and read from GPVE_REGISTRY."""

from __future__ import annotations

import pytest

from tests.as_a_user import ansible_cli
from tests.as_a_user.seed import k8s_vm_nodes

pytestmark = pytest.mark.inventory

PROD_NODES = {node["name"]: node["ip_address"] for node in k8s_vm_nodes("prod-eu1")}
DEV_NODES = {node["name"]: node["ip_address"]
             for node in k8s_vm_nodes("dev-eu1", first_octet=2, pools=(("general", 1),), control_planes=1)}


def test_keyed_groups_on_cluster_labels_group_the_nodes_too(inventory_file, tmp_path):
    listing, _unsafe = ansible_cli.inventory_list(inventory_file(
        "keyed_groups:\n  - key: gpve_cluster_labels\n    prefix: label\n"), tmp_path)
    payments = set(listing["label_team_payments"]["hosts"])
    assert payments == {"cluster_prod-eu1", "cluster_dev-eu1"} | set(PROD_NODES) | set(DEV_NODES)
    node = listing["_meta"]["hostvars"]["prod-eu1-cp-1"]
    assert (node["gpve_cluster_labels"], node["gpve_cluster_type"]) == ({"env": "prod", "team": "payments"}, "k8s-vm")


def test_hostnames_name_nodes_by_address_and_keep_their_groups(inventory_file, tmp_path):
    listing, _unsafe = ansible_cli.inventory_list(inventory_file("hostnames: [address, name]\n"), tmp_path)
    hostvars = listing["_meta"]["hostvars"]
    for name, address in {**PROD_NODES, **DEV_NODES}.items():
        assert hostvars[address]["gpve_node_name"] == name and name not in hostvars
    assert "cluster_prod-eu1" in hostvars
    assert set(listing["prod_eu1_control_plane"]["hosts"]) == {PROD_NODES[f"prod-eu1-cp-{n}"] for n in (1, 2, 3)}


def test_hostnames_vm_name_is_the_proxmox_vm_name(inventory_file, tmp_path):
    listing, _unsafe = ansible_cli.inventory_list(inventory_file("hostnames: [vm_name]\n"), tmp_path)
    assert set(PROD_NODES) | set(DEV_NODES) <= set(listing["_meta"]["hostvars"])


def test_an_unknown_hostnames_entry_is_refused(inventory_file, tmp_path):
    done = ansible_cli.run(["ansible-inventory", "-i", str(inventory_file("hostnames: [dns-name]\n")), "--list"],
                           tmp_path, check=False)
    assert "dns-name" in done.stderr and "hostnames" in done.stderr
    assert "prod-eu1-cp-1" not in done.stdout


def templated_source(tmp_path):
    """A gpve.yml whose registry comes from the environment variable CLUSTER_DB through a lookup."""
    source = tmp_path / "gpve.yml"
    source.write_text("plugin: gpve.cluster.gpve\nregistry: \"{{ lookup('ansible.builtin.env', 'CLUSTER_DB') }}\"\n")
    return source


def test_registry_is_templated(tmp_path, registry_path, seeded):
    listing, _unsafe = ansible_cli.inventory_list(templated_source(tmp_path), tmp_path, CLUSTER_DB=str(registry_path))
    assert "cluster_prod-eu1" in listing["_meta"]["hostvars"]


def test_registry_that_templates_to_nothing_names_the_option(tmp_path, registry_path, seeded):
    done = ansible_cli.run(["ansible-inventory", "-i", str(templated_source(tmp_path)), "--list"], tmp_path, check=False)
    assert "gpve inventory: registry templates to nothing; give it a path or a postgresql:// DSN" in done.stderr
    assert "cluster_prod-eu1" not in done.stdout


def test_registry_from_gpve_registry(tmp_path, registry_path, seeded):
    source = tmp_path / "gpve.yml"
    source.write_text("plugin: gpve.cluster.gpve\n")
    listing, _unsafe = ansible_cli.inventory_list(source, tmp_path, GPVE_REGISTRY=str(registry_path))
    assert "cluster_prod-eu1" in listing["_meta"]["hostvars"]
