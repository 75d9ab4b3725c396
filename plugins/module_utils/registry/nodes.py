# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster nodes: bulk upsert/replace per cluster, CAS updates per node, bulk reads for the
inventory, and the addresses every live cluster holds (for IPAM).

A node is identified by (cluster id, node name). Bulk writes compare with what is stored
and touch only nodes that differ, so re-recording the same nodes changes nothing and keeps
every node's resource_version.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.registry import validation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.clusters import new_id, placeholders, require_live
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import AddressInUse, Conflict, NotFound
from ansible_collections.gpve.cluster.plugins.module_utils.registry.records import AllocatedAddress, Node
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow

NODE_FIELDS = ("vmid", "role", "pool_name", "ip_address", "status", "labels", "taints", "resources", "conditions")
_DEFAULTS = {"vmid": None, "pool_name": None, "ip_address": None, "status": "Unknown", "labels": {}, "taints": [],
             "resources": {}, "conditions": []}
_CHUNK = 500  # ids per IN (...) list, well under every SQLite build's variable limit


def _checked(field, value):
    if field == "vmid":
        return None if value is None else validation.text("vmid", str(value), max_length=32)
    if field == "labels":
        return validation.string_map("labels", value)
    if field in ("taints", "conditions"):
        return validation.document(field, value, kind=list) or []
    if field == "resources":
        return validation.document(field, value) or {}
    limits = {"role": 32, "pool_name": 64, "ip_address": 45, "status": 32}
    return validation.text(field, value, max_length=limits[field], required=field in ("role", "status"))


def node_values(node):
    """Validated column values of one node given as a dict (or a Node); name and role are required."""
    if isinstance(node, Node):
        node = {field: getattr(node, field) for field in ("name",) + NODE_FIELDS}
    validation.known_fields("node", node, ("name",) + NODE_FIELDS)
    values = dict(_DEFAULTS)
    values.update(node)
    name = validation.text("node.name", values.pop("name", None))
    return name, {field: _checked(field, values.get(field)) for field in NODE_FIELDS}


def nodes_by_cluster(tx, cluster_ids):
    """cluster id -> its nodes ordered by role then name, for many clusters at once."""
    result = {cluster_id: [] for cluster_id in cluster_ids}
    ids = list(cluster_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for row in tx.all(f"SELECT * FROM cluster_nodes WHERE cluster_id IN ({placeholders(chunk)}) ORDER BY cluster_id, role, name",
                          chunk):
            result[row["cluster_id"]].append(Node(**row))
    return result


def _claim_addresses(tx, cluster_id, addresses):
    tx.serialize("ipam")
    for start in range(0, len(addresses), _CHUNK):
        chunk = addresses[start:start + _CHUNK]
        held = tx.one("SELECT n.ip_address, c.name FROM cluster_nodes n JOIN clusters c ON c.id = n.cluster_id "
                      f"WHERE c.deleted_at IS NULL AND n.cluster_id <> ? AND n.ip_address IN ({placeholders(chunk)}) "
                      "ORDER BY n.ip_address", [cluster_id] + chunk)
        if held:
            raise AddressInUse(held["ip_address"], held["name"])


def _stored(tx, cluster_id):
    return {row["name"]: Node(**row) for row in tx.all("SELECT * FROM cluster_nodes WHERE cluster_id = ?", (cluster_id,))}


def _differs(current, values):
    return any(getattr(current, field) != value for field, value in values.items())


class NodeOps:
    """Store methods for nodes."""

    def upsert_nodes(self, cluster_id, nodes, exclusive_ips=False):
        """Insert or fully overwrite the given nodes (by name); others stay. Returns the cluster's nodes.

        exclusive_ips=True refuses (AddressInUse) an address another live cluster's node holds;
        such writes run one at a time, so two clusters cannot claim one address concurrently.
        """
        return self._write_nodes(cluster_id, nodes, remove_others=False, exclusive_ips=exclusive_ips)

    def replace_nodes(self, cluster_id, nodes, exclusive_ips=False):
        """Make the cluster's node set exactly nodes: upsert them, delete the rest. Returns the nodes."""
        return self._write_nodes(cluster_id, nodes, remove_others=True, exclusive_ips=exclusive_ips)

    def _write_nodes(self, cluster_id, nodes, remove_others, exclusive_ips):
        wanted = dict(node_values(node) for node in nodes)
        if len(wanted) != len(nodes):
            raise validation.ValidationError("nodes", "node names must be unique within a cluster")

        def work(tx):
            require_live(tx, cluster_id)
            if exclusive_ips:
                _claim_addresses(tx, cluster_id, [values["ip_address"] for values in wanted.values() if values["ip_address"]])
            stored = _stored(tx, cluster_id)
            now = utcnow()
            written = [name for name, values in wanted.items() if name not in stored or _differs(stored[name], values)]
            for name in written:
                self._put_node(tx, cluster_id, name, wanted[name], stored.get(name), now)
            removed = sorted(set(stored) - set(wanted)) if remove_others else []
            for start in range(0, len(removed), _CHUNK):
                chunk = removed[start:start + _CHUNK]
                tx.execute(f"DELETE FROM cluster_nodes WHERE cluster_id = ? AND name IN ({placeholders(chunk)})", [cluster_id] + chunk)
            if written or removed:
                self._audit(tx, "replace" if remove_others else "upsert", "nodes", cluster_id, cluster_id,
                            {"written": sorted(written), "removed": removed})
            return nodes_by_cluster(tx, [cluster_id])[cluster_id]

        return self._write(work)

    @staticmethod
    def _put_node(tx, cluster_id, name, values, current, now):
        if current is None:
            columns = ["id", "cluster_id", "name", "created_at", "updated_at"] + list(values)
            tx.execute(f"INSERT INTO cluster_nodes ({', '.join(columns)}) VALUES ({placeholders(columns)})",
                       [new_id(), cluster_id, name, now, now] + list(values.values()))
            return
        tx.execute(f"UPDATE cluster_nodes SET {''.join(f'{field} = ?, ' for field in values)}updated_at = ?, "
                   "resource_version = resource_version + 1 WHERE id = ?", list(values.values()) + [now, current.id])

    def update_node(self, cluster_id, name, expected_version=None, **fields):
        """Change some fields of one node; with expected_version, only if the node is unchanged since read."""
        validation.version("expected_version", expected_version)
        validation.known_fields("node", fields, NODE_FIELDS)
        checked = {field: _checked(field, value) for field, value in fields.items()}

        def work(tx):
            require_live(tx, cluster_id)
            sql = (f"UPDATE cluster_nodes SET {''.join(f'{field} = ?, ' for field in checked)}updated_at = ?, "
                   "resource_version = resource_version + 1 WHERE cluster_id = ? AND name = ?")
            params = list(checked.values()) + [utcnow(), cluster_id, name]
            if expected_version is not None:
                sql += " AND resource_version = ?"
                params.append(expected_version)
            if tx.execute(sql, params) != 1:
                if tx.one("SELECT id FROM cluster_nodes WHERE cluster_id = ? AND name = ?", (cluster_id, name)) is None:
                    raise NotFound("node", f"{cluster_id}/{name}")
                raise Conflict("node", f"{cluster_id}/{name}", expected_version)
            self._audit(tx, "update", "node", f"{cluster_id}/{name}", cluster_id, {"fields": sorted(checked)})
            return Node(**tx.one("SELECT * FROM cluster_nodes WHERE cluster_id = ? AND name = ?", (cluster_id, name)))

        return self._write(work)

    def get_node(self, cluster_id, name):
        row = self._read(lambda tx: tx.one("SELECT * FROM cluster_nodes WHERE cluster_id = ? AND name = ?", (cluster_id, name)))
        if row is None:
            raise NotFound("node", f"{cluster_id}/{name}")
        return Node(**row)

    def list_nodes(self, cluster_id):
        return self._read(lambda tx: nodes_by_cluster(tx, [cluster_id])[cluster_id])

    def nodes_for(self, cluster_ids):
        """cluster id -> nodes for many clusters in one read (ids without nodes map to [])."""
        return self._read(lambda tx: nodes_by_cluster(tx, list(cluster_ids)))

    def allocated_ips(self, type=None):  # pylint: disable=redefined-builtin
        """Every node address held by a live cluster (optionally of one type), ordered by address."""
        sql = ("SELECT n.ip_address, n.cluster_id, c.name AS cluster_name, c.type AS cluster_type, n.name AS node_name "
               "FROM cluster_nodes n JOIN clusters c ON c.id = n.cluster_id "
               "WHERE c.deleted_at IS NULL AND n.ip_address IS NOT NULL")
        params = []
        if type is not None:
            sql += " AND c.type = ?"
            params.append(type)
        rows = self._read(lambda tx: tx.all(sql + " ORDER BY n.ip_address, c.name, n.name", params))
        return [AllocatedAddress(**row) for row in rows]
