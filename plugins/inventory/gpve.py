# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: gpve
short_description: Every cluster in the gpve cluster registry, and the nodes of K8s-on-VM clusters
version_added: 0.1.0
description:
  - Reads the gpve cluster registry (SQLite or PostgreSQL) in bulk, a few queries whatever the number of clusters,
    and makes every registered cluster a host C(cluster_<name>) (local connection) and every VM of a K8s-on-VM
    cluster a host reachable at its address (C(ansible_host)).
  - Makes no call to Proxmox VE or Kubernetes. Every value is marked unsafe.
  - 'Groups: C(gpve_clusters), C(gpve_nodes), C(gpve_type_<type>) (C(gpve_type_vcluster), C(gpve_type_k8s_vm),
    C(gpve_type_external)), C(gpve_phase_<phase>) in lower case (C(gpve_phase_running)), C(gpve_cluster_<name>)
    and, per K8s-on-VM cluster, C(<name>_control_plane), C(<name>_workers), C(<name>_pool_<pool>) and C(<name>_lb).
    Characters other than letters, digits and C(_) become C(_) in group names.'
  - Cluster hosts get C(gpve_cluster_id), C(gpve_cluster_name), C(gpve_cluster_type), C(gpve_cluster_provider),
    C(gpve_cluster_phase), C(gpve_cluster_message), C(gpve_cluster_endpoint), C(gpve_cluster_version),
    C(gpve_cluster_labels), C(gpve_cluster_node_count), C(gpve_cluster_ready_nodes),
    C(gpve_cluster_registered_nodes), C(gpve_cluster_last_heartbeat) and C(gpve_kubeconfig), the arguments of
    M(gpve.cluster.gpve_kubeconfig) that fetch a kubeconfig (the inventory never holds key material).
  - Node hosts get C(ansible_host), C(gpve_cluster_id), C(gpve_cluster_name), C(gpve_cluster_type),
    C(gpve_cluster_labels) (their cluster's labels, so C(keyed_groups) on labels group nodes with their cluster),
    C(gpve_node_name), C(gpve_node_role), C(gpve_node_pool), C(gpve_node_vmid), C(gpve_node_proxmox_node),
    C(gpve_node_status), C(gpve_node_ip) and C(gpve_node_labels).
  - The configuration file must be named C(gpve.yml), C(gpve.yaml), or end in C(.gpve.yml) / C(.gpve.yaml).
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - gpve.cluster.registry
options:
  plugin:
    description: The name of this plugin; always V(gpve.cluster.gpve).
    type: str
    required: true
    choices: [gpve.cluster.gpve]
  registry:
    description:
      - Where the cluster registry lives. A filesystem path selects SQLite (the file must exist); a C(postgresql://)
        DSN selects PostgreSQL.
      - Templated, so a DSN can come from a lookup or a vault variable (V({{ lookup('ansible.builtin.env', 'DB_DSN') }})).
        A value that templates to nothing fails naming this option.
      - When unset, C($XDG_DATA_HOME/gpve/registry.db) (C(~/.local/share/gpve/registry.db)).
    type: str
    env:
      - name: GPVE_REGISTRY
  hostnames:
    description:
      - How node hosts are named, as amazon.aws's aws_ec2 C(hostnames) does it - the first of these that has a value
        for a node wins, else its name.
      - V(name) is the node's name in the registry; V(vm_name) the VM's name in Proxmox VE (gpve_k8s_vm names each VM
        after its node); V(address) the node's IP address (nodes without one yet fall through to the next entry).
      - Cluster hosts are always named C(cluster_<name>).
    type: list
    elements: str
    choices: [name, vm_name, address]
    default: [name]
  types:
    description: Only clusters of these types.
    type: list
    elements: str
    choices: [vcluster, k8s-vm, external]
    default: []
  phases:
    description: Only clusters in these phases (V(Running), V(Failed), ...). Deleted clusters are never shown.
    type: list
    elements: str
    default: []
  names:
    description: Only clusters whose name matches one of these shell-style patterns (V(prod-*)).
    type: list
    elements: str
    default: []
  labels:
    description: Only clusters carrying every one of these labels with these values.
    type: dict
    default: {}
  want_clusters:
    description: Add a host C(cluster_<name>) per cluster.
    type: bool
    default: true
  want_nodes:
    description: Add a host per VM of each K8s-on-VM cluster.
    type: bool
    default: true
notes:
  - With SQLite the registry file must exist; the plugin never creates one.
  - Reading the inventory needs no encryption key.
seealso:
  - name: gpve.cluster documentation of the inventory plugin
    description: Hosts, groups, variables, caching, and examples.
    link: https://github.com/gpve/cluster/blob/main/docs/inventory.md
"""

EXAMPLES = r"""
# gpve.yml: every cluster and node of the default registry
plugin: gpve.cluster.gpve

---
# prod.gpve.yml: running production clusters, grouped by team label, from a shared registry
plugin: gpve.cluster.gpve
registry: postgresql://gpve@db.example.com/gpve
phases: [Running]
labels:
  env: prod
keyed_groups:
  - key: gpve_cluster_labels.team | default('none')
    prefix: team
compose:
  ansible_python_interpreter: ansible_playbook_python
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/gpve-inventory
cache_timeout: 300
"""

import os

from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.module_utils.parsing.convert_bool import BOOLEANS
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.gpve.cluster.plugins.module_utils import redact
from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.inventory import model
from ansible_collections.gpve.cluster.plugins.module_utils.registry import is_postgres, open_registry, resolve_location
from ansible_collections.gpve.cluster.plugins.plugin_utils.unsafe import unsafe_vars

FILE_NAMES = ("gpve.yml", "gpve.yaml")
BOOLEAN_WORDS = frozenset(str(word).lower() for word in BOOLEANS)


def _is_boolean(value):
    return isinstance(value, bool) or (isinstance(value, (str, int)) and str(value).lower() in BOOLEAN_WORDS)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "gpve.cluster.gpve"

    def verify_file(self, path):
        if not super().verify_file(path):
            return False
        base = os.path.basename(path)
        return base in FILE_NAMES or base.endswith(tuple("." + name for name in FILE_NAMES))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._check_keys(self._read_config_data(path))
        found, built = self._cached(path, cache)
        if not found:
            built = self._read_registry()
        self._populate(built)
        self._store_in_cache(path, cache, found, built)

    # Cache, as amazon.aws does it: read unless refreshing; write only what was not read from it.

    def _cached(self, path, cache):
        if not (cache and self.get_option("cache")):
            return False, None
        try:
            return True, self._cache[self.get_cache_key(path)]
        except KeyError:
            return False, None

    def _store_in_cache(self, path, cache, found, built):
        if self.get_option("cache") and not (cache and found):
            self._cache[self.get_cache_key(path)] = built

    def _registry_option(self):
        """The registry option, templated (a DSN may come from a lookup or a vault variable)."""
        raw = self.get_option("registry")
        if raw is None:
            return None
        value = self.templar.template(raw) if self.templar.is_template(raw) else raw
        if value is None or not str(value).strip():
            raise AnsibleParserError("gpve inventory: registry templates to nothing; give it a path or a postgresql:// "
                                     "DSN, or leave it out to use GPVE_REGISTRY or the default path")
        return str(value).strip()

    def _check_keys(self, config):
        """Refuse keys no option of this plugin (or of its constructed and cache fragments) knows."""
        unknown = sorted(str(key) for key in config if key not in self._options and key != "plugin")
        if unknown:
            raise AnsibleParserError(f"Unsupported parameters for ({self.NAME}) inventory: {', '.join(unknown)}. Supported "
                                     f"parameters include: {', '.join(sorted(['plugin'] + list(self._options)))}.")
        # Ansible reads any other word as false ("maybe", [1]); a boolean option takes a boolean.
        definitions = C.config.get_configuration_definitions("inventory", self._load_name) or {}
        for key, value in config.items():
            if (definitions.get(key) or {}).get("type") in ("bool", "boolean") and not _is_boolean(value):
                raise AnsibleParserError(f"{key}: {str(value)[:60]!r} is not a boolean (true or false)")

    def _read_registry(self):
        try:
            location = resolve_location(self._registry_option())
        except GpveError as exc:
            raise AnsibleParserError(f"gpve inventory: {exc}") from None
        shown = redact.redacted(location)
        if not is_postgres(location) and not os.path.isfile(os.path.expanduser(location)):
            raise AnsibleParserError(f"gpve registry not found: {shown} does not exist (set registry or GPVE_REGISTRY)")
        filters = model.Filters(types=self.get_option("types"), phases=self.get_option("phases"),
                                name_patterns=self.get_option("names"), labels=self.get_option("labels"))
        try:
            with open_registry(location) as store:
                clusters, nodes = model.read_snapshot(store, filters)
                # Handed on to gpve_kubeconfig by playbooks: a DSN without its password (libpq then reads
                # PGPASSWORD or ~/.pgpass), never the secret.
                handed_on = redact.without_password(location) if is_postgres(location) else store.location
                return model.build(clusters, nodes, handed_on, want_clusters=self.get_option("want_clusters"),
                                   want_nodes=self.get_option("want_nodes"), hostnames=self.get_option("hostnames"))
        except GpveError as exc:
            message = redact.scrub(str(exc), redact.secrets(location))
            raise AnsibleParserError(f"gpve registry {shown}: {message}") from None

    def _populate(self, built):
        inventory = self.inventory
        for group in built["groups"]:
            inventory.add_group(group)
        for host, variables in built["hosts"].items():
            inventory.add_host(host)
            self._set_host_vars(host, variables)
        for group, members in built["groups"].items():
            for child in members["children"]:
                inventory.add_child(group, child)
            for host in members["hosts"]:
                inventory.add_child(group, host)
        for warning in built.get("warnings") or []:
            self.display.warning(warning)
        self._construct(built["hosts"])

    def _set_host_vars(self, host, variables):
        """All of a new host's variables at once, marked unsafe.

        inventory.set_variable per value costs ansible-core 2.19 a copy-and-check of the value
        (its variable visitor) and a key check, over 10 us each: over a second for 10,000 hosts
        of a dozen variables. The values here are plain data the plugin built (str, int, bool,
        None, dict, list) with fixed, valid names, so they go into the host's variables
        directly, after the same unsafe marking; a name the host already has (from another
        inventory source) still goes through set_variable and its merge rules.
        """
        variables = unsafe_vars(variables)
        current = self.inventory.get_host(host).vars
        if current.keys().isdisjoint(variables):
            current.update(variables)
            return
        for key, value in variables.items():
            self.inventory.set_variable(host, key, value)

    def _construct(self, hosts):
        compose, groups, keyed = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        if not (compose or groups or keyed):
            return
        strict = self.get_option("strict")
        for host in hosts:
            variables = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(compose, variables, host, strict=strict)
            self._add_host_to_composed_groups(groups, variables, host, strict=strict)
            self._add_host_to_keyed_groups(keyed, variables, host, strict=strict)
