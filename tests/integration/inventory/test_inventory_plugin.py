"""gpve.cluster.gpve through real ansible-inventory / ansible runs over a registry holding all three cluster types."""

from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.inventory import model
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli
from tests.as_a_user.seed import CANARY_SECRET, TEMPLATE_LABEL, k8s_vm_nodes, seed_three_types

pytestmark = pytest.mark.inventory

CLUSTER_HOSTS = {"cluster_prod-eu1", "cluster_dev-eu1", "cluster_team-a", "cluster_team-b", "cluster_ext-gke", "cluster_ext-old"}
PROD_NODES = {"prod-eu1-cp-1", "prod-eu1-cp-2", "prod-eu1-cp-3", "prod-eu1-general-1", "prod-eu1-general-2",
              "prod-eu1-storage-1", "prod-eu1-lb"}
DEV_NODES = {"dev-eu1-cp-1", "dev-eu1-general-1", "dev-eu1-lb"}


def hosts_of(listing):
    return set(listing["_meta"]["hostvars"])


def group(listing, name):
    return listing.get(name, {})


def string_paths(value, path=()):
    """Paths of every string in value (nested dicts and lists)."""
    if isinstance(value, str):
        return {path}
    if isinstance(value, dict):
        return set().union(*(string_paths(item, path + (key,)) for key, item in value.items()))
    if isinstance(value, list):
        return set().union(*(string_paths(item, path + (index,)) for index, item in enumerate(value)))
    return set()


def assert_every_string_unsafe(listing, unsafe):
    """Every string among the host variables reached ansible-inventory marked unsafe (ansible-core 2.19 shows them all so)."""
    plugin_paths = {path for path in string_paths(listing["_meta"]["hostvars"], ("_meta", "hostvars"))
                    if path[3] not in ("inventory_file", "inventory_dir")}
    assert plugin_paths and plugin_paths <= unsafe, sorted(plugin_paths - unsafe)[:5]


def test_list_shows_clusters_and_nodes_with_their_variables(inventory_file, tmp_path, seeded, registry_path):
    listing, unsafe = ansible_cli.inventory_list(inventory_file(), tmp_path)
    hostvars = listing["_meta"]["hostvars"]
    assert hosts_of(listing) == CLUSTER_HOSTS | PROD_NODES | DEV_NODES

    prod = hostvars["cluster_prod-eu1"]
    assert prod["ansible_connection"] == "local"
    assert (prod["gpve_cluster_id"], prod["gpve_cluster_type"], prod["gpve_cluster_phase"]) == (seeded["prod-eu1"], "k8s-vm", "Running")
    assert (prod["gpve_cluster_endpoint"], prod["gpve_cluster_version"]) == ("https://127.0.1.7:6443", "v1.37.2")
    assert prod["gpve_cluster_labels"] == {"env": "prod", "team": "payments"}
    assert (prod["gpve_cluster_node_count"], prod["gpve_cluster_ready_nodes"], prod["gpve_cluster_registered_nodes"]) == (6, 6, 7)
    assert prod["gpve_kubeconfig"] == {"module": "gpve.cluster.gpve_kubeconfig", "name": "prod-eu1", "registry": str(registry_path)}
    assert hostvars["cluster_ext-gke"]["gpve_cluster_provider"] == "gke"
    assert hostvars["cluster_team-b"]["gpve_cluster_message"] == "statefulset never became ready"

    worker = hostvars["prod-eu1-general-2"]
    assert worker["ansible_host"] == "127.0.1.5"
    assert (worker["gpve_node_role"], worker["gpve_node_pool"], worker["gpve_node_vmid"]) == ("worker", "general", 1105)
    assert (worker["gpve_node_proxmox_node"], worker["gpve_cluster_name"]) == ("pve2", "prod-eu1")
    assert hostvars["prod-eu1-storage-1"]["gpve_node_labels"] == {"disk": "ssd"}

    # Registry strings are never templated, and no key material reaches the inventory.
    assert hostvars["cluster_team-a"]["gpve_cluster_labels"]["note"] == TEMPLATE_LABEL
    assert ("_meta", "hostvars", "cluster_team-a", "gpve_cluster_labels", "note") in unsafe
    assert_every_string_unsafe(listing, unsafe)
    assert CANARY_SECRET not in ansible_cli.run(["ansible-inventory", "-i", str(inventory_file()), "--list"], tmp_path).stdout


def test_groups_by_type_phase_cluster_role_and_pool(inventory_file, tmp_path):
    listing, _unsafe = ansible_cli.inventory_list(inventory_file(), tmp_path)
    assert set(group(listing, "gpve_type_k8s_vm")["hosts"]) == {"cluster_prod-eu1", "cluster_dev-eu1"}
    assert set(group(listing, "gpve_type_vcluster")["hosts"]) == {"cluster_team-a", "cluster_team-b"}
    assert set(group(listing, "gpve_type_external")["hosts"]) == {"cluster_ext-gke", "cluster_ext-old"}
    assert set(group(listing, "gpve_phase_running")["hosts"]) == {"cluster_prod-eu1", "cluster_team-a", "cluster_ext-gke"}
    assert group(listing, "gpve_phase_failed")["hosts"] == ["cluster_team-b"]
    assert set(group(listing, "gpve_phase_pending")["hosts"]) == {"cluster_ext-old"}
    assert set(group(listing, "gpve_clusters")["hosts"]) == CLUSTER_HOSTS
    assert set(group(listing, "gpve_nodes")["hosts"]) == PROD_NODES | DEV_NODES

    prod = group(listing, "gpve_cluster_prod_eu1")
    assert prod["hosts"] == ["cluster_prod-eu1"]
    assert set(prod["children"]) == {"prod_eu1_control_plane", "prod_eu1_workers", "prod_eu1_lb"}
    assert group(listing, "prod_eu1_control_plane")["hosts"] == ["prod-eu1-cp-1", "prod-eu1-cp-2", "prod-eu1-cp-3"]
    assert set(group(listing, "prod_eu1_workers")["children"]) == {"prod_eu1_pool_general", "prod_eu1_pool_storage"}
    assert group(listing, "prod_eu1_pool_general")["hosts"] == ["prod-eu1-general-1", "prod-eu1-general-2"]
    assert group(listing, "prod_eu1_pool_storage")["hosts"] == ["prod-eu1-storage-1"]
    assert group(listing, "prod_eu1_lb")["hosts"] == ["prod-eu1-lb"]
    assert group(listing, "gpve_cluster_team_a")["hosts"] == ["cluster_team-a"]


def test_graph_draws_the_cluster_tree(inventory_file, tmp_path):
    graph = ansible_cli.run(["ansible-inventory", "-i", str(inventory_file()), "--graph", "gpve_cluster_prod_eu1"],
                            tmp_path).stdout.splitlines()
    assert graph == [
        "@gpve_cluster_prod_eu1:",
        "  |--@prod_eu1_control_plane:",
        "  |  |--prod-eu1-cp-1",
        "  |  |--prod-eu1-cp-2",
        "  |  |--prod-eu1-cp-3",
        "  |--@prod_eu1_lb:",
        "  |  |--prod-eu1-lb",
        "  |--@prod_eu1_workers:",
        "  |  |--@prod_eu1_pool_general:",
        "  |  |  |--prod-eu1-general-1",
        "  |  |  |--prod-eu1-general-2",
        "  |  |--@prod_eu1_pool_storage:",
        "  |  |  |--prod-eu1-storage-1",
        "  |--cluster_prod-eu1",
    ]
    whole = ansible_cli.run(["ansible-inventory", "-i", str(inventory_file()), "--graph"], tmp_path).stdout
    for line in ("  |--@gpve_type_external:", "  |  |--cluster_ext-gke", "  |--@gpve_phase_failed:", "  |  |--cluster_team-b"):
        assert line in whole.splitlines()


@pytest.mark.parametrize("options, expected", [
    ("types: [external]\n", {"cluster_ext-gke", "cluster_ext-old"}),
    ("types: [k8s-vm]\nwant_nodes: false\n", {"cluster_prod-eu1", "cluster_dev-eu1"}),
    ("phases: [Running]\n", {"cluster_prod-eu1", "cluster_team-a", "cluster_ext-gke"} | PROD_NODES),
    ("names: ['team-?', 'dev-*']\n", {"cluster_team-a", "cluster_team-b", "cluster_dev-eu1"} | DEV_NODES),
    ("labels: {env: prod}\n", {"cluster_prod-eu1", "cluster_team-b", "cluster_ext-gke"} | PROD_NODES),
    ("labels: {env: dev, team: payments}\n", {"cluster_dev-eu1"} | DEV_NODES),
    ("want_clusters: false\n", PROD_NODES | DEV_NODES),
    ("types: [vcluster]\nphases: [Failed]\n", {"cluster_team-b"}),
])
def test_filters(inventory_file, tmp_path, options, expected):
    listing, _unsafe = ansible_cli.inventory_list(inventory_file(options), tmp_path)
    assert hosts_of(listing) == expected


def test_keyed_groups_compose_and_conditional_groups(inventory_file, tmp_path):
    options = """keyed_groups:
  - key: gpve_cluster_labels | default({})
    prefix: label
  - key: gpve_node_role | default('cluster')
    prefix: role
groups:
  needs_attention: gpve_cluster_phase is defined and gpve_cluster_phase in ['Failed', 'Pending']
compose:
  gpve_is_prod: (gpve_cluster_labels | default({})).get('env') == 'prod'
strict: true
"""
    listing, _unsafe = ansible_cli.inventory_list(inventory_file(options), tmp_path)
    # Nodes carry their cluster's labels: prod-eu1's nodes join its label groups.
    assert set(group(listing, "label_env_prod")["hosts"]) == {"cluster_prod-eu1", "cluster_team-b", "cluster_ext-gke"} | PROD_NODES
    assert set(group(listing, "label_team_search")["hosts"]) == {"cluster_team-a", "cluster_team-b"}
    assert set(group(listing, "role_control_plane")["hosts"]) == {"prod-eu1-cp-1", "prod-eu1-cp-2", "prod-eu1-cp-3", "dev-eu1-cp-1"}
    assert set(group(listing, "needs_attention")["hosts"]) == {"cluster_team-b", "cluster_ext-old"}
    assert set(group(listing, "role_cluster")["hosts"]) == CLUSTER_HOSTS
    hostvars = listing["_meta"]["hostvars"]
    assert hostvars["cluster_ext-gke"]["gpve_is_prod"] is True and hostvars["cluster_team-a"]["gpve_is_prod"] is False


def test_cache_serves_the_last_read_until_flushed(inventory_file, tmp_path, registry_path):
    cache_dir = tmp_path / "cache"
    source = inventory_file(f"cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: {cache_dir}\ncache_timeout: 3600\n")
    first, _unsafe = ansible_cli.inventory_list(source, tmp_path)
    assert "cluster_late" not in hosts_of(first)
    assert list(cache_dir.iterdir()), "the first read fills the cache"

    with open_registry(str(registry_path), actor="test", environ={}) as store:
        store.create_cluster("late", "external", spec={"endpoint": "https://10.1.1.1:6443"})

    cached, unsafe = ansible_cli.inventory_list(source, tmp_path)
    assert hosts_of(cached) == hosts_of(first)
    assert_every_string_unsafe(cached, unsafe)
    assert cached["_meta"]["hostvars"]["cluster_prod-eu1"] == first["_meta"]["hostvars"]["cluster_prod-eu1"]
    refreshed, _unsafe = ansible_cli.inventory_list(source, tmp_path, "--flush-cache")
    assert hosts_of(refreshed) == hosts_of(first) | {"cluster_late"}
    again, _unsafe = ansible_cli.inventory_list(source, tmp_path)
    assert "cluster_late" in hosts_of(again)


class Listeners:
    """TCP listeners on loopback addresses, standing in for the nodes' SSH ports."""

    def __init__(self, addresses):
        self.sockets = []
        for address in addresses:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((address, 0 if not self.sockets else self.port))
            listener.listen(16)
            self.sockets.append(listener)
            self.port = listener.getsockname()[1]
        self.accepted = {address: 0 for address in addresses}
        self.threads = [threading.Thread(target=self._accept, args=(sock,), daemon=True) for sock in self.sockets]
        for thread in self.threads:
            thread.start()

    def _accept(self, listener):
        while True:
            try:
                connection, _peer = listener.accept()
            except OSError:
                return
            self.accepted[connection.getsockname()[0]] += 1
            connection.close()

    def close(self):
        for listener in self.sockets:
            listener.close()


def test_nodes_are_reachable_at_their_ansible_host(inventory_file, tmp_path):
    addresses = [f"127.0.1.{n}" for n in range(1, 8)] + [f"127.0.2.{n}" for n in range(1, 4)]
    listeners = Listeners(addresses)
    try:
        done = ansible_cli.run(["ansible", "gpve_nodes", "-i", str(inventory_file()), "-c", "local", "-m",
                                "ansible.builtin.wait_for", "-a", f"host={{{{ ansible_host }}}} port={listeners.port} timeout=30"],
                               tmp_path)
    finally:
        listeners.close()
    assert done.stdout.count("SUCCESS") == 10, done.stdout
    assert all(count >= 1 for count in listeners.accepted.values()), listeners.accepted


def test_postgresql_registry(pg_database, tmp_path):
    seed_three_types(pg_database, encryption_key="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    source = tmp_path / "shared.gpve.yml"
    source.write_text(f"plugin: gpve.cluster.gpve\nregistry: {pg_database}\n")
    listing, _unsafe = ansible_cli.inventory_list(source, tmp_path)
    assert hosts_of(listing) == CLUSTER_HOSTS | PROD_NODES | DEV_NODES
    assert listing["_meta"]["hostvars"]["prod-eu1-cp-2"]["ansible_host"] == "127.0.1.2"


def test_missing_registry_is_a_clear_error_and_creates_nothing(tmp_path):
    missing = tmp_path / "nowhere" / "registry.db"
    source = tmp_path / "gpve.yml"
    source.write_text(f"plugin: gpve.cluster.gpve\nregistry: {missing}\n")
    done = ansible_cli.run(["ansible-inventory", "-i", str(source), "--list"], tmp_path, check=False)
    assert done.returncode != 0
    assert f"gpve registry not found: {missing} does not exist" in done.stderr
    assert not missing.parent.exists()


def test_other_file_names_are_not_ours(tmp_path, registry_path, seeded):
    source = tmp_path / "clusters.yml"
    source.write_text(f"plugin: gpve.cluster.gpve\nregistry: {registry_path}\n")
    done = ansible_cli.run(["ansible-inventory", "-i", str(source), "--list"], tmp_path, check=False)
    assert done.returncode != 0


def test_reading_the_inventory_writes_nothing(inventory_file, tmp_path, registry_path):
    with open_registry(str(registry_path), actor="test", environ={}) as store:
        before = [entry.seq for entry in store.list_audit(limit=1000)]
    ansible_cli.inventory_list(inventory_file(), tmp_path)
    with open_registry(str(registry_path), actor="test", environ={}) as store:
        assert [entry.seq for entry in store.list_audit(limit=1000)] == before


def _statements_of_one_read(path):
    statements = []
    with open_registry(str(path), actor="test", environ={}) as store:
        store.schema_version()  # open and migrate first: only the inventory read is counted
        store._backend._connection.get().set_trace_callback(statements.append)  # pylint: disable=protected-access
        clusters, nodes = model.read_snapshot(store, model.Filters())
        built = model.build(clusters, nodes, store.location)
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")], built


def test_bulk_reads_do_not_grow_with_the_number_of_clusters(tmp_path, registry_path, seeded):
    small, small_model = _statements_of_one_read(registry_path)
    with open_registry(str(registry_path), actor="test", environ={}) as store:
        for index in range(40):
            cluster = store.create_cluster(f"bulk-{index}", "k8s-vm", spec={"distribution": "kubeadm", "kubernetes_version": "1.37.2"})
            store.replace_nodes(cluster.id, k8s_vm_nodes(f"bulk-{index}", 3))
    large, large_model = _statements_of_one_read(registry_path)
    assert len(large_model["hosts"]) == len(small_model["hosts"]) + 40 * 8
    assert len(large) == len(small) == 2, "one query for the clusters, one for their nodes"
