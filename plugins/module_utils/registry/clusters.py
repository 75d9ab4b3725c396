# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clusters: registration, reads and queries, desired-state updates, status, phase changes.

A cluster row carries metadata; its spec lives in the table of its type (known spec keys
in columns, the rest in an ``extra`` document, so ``spec`` reads back as written); its
status row carries the observed state. Reads exclude soft-deleted clusters unless asked.
"""

from __future__ import annotations

import uuid

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.registry import schema, validation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import Conflict, DuplicateName, NotFound, UniqueViolation, WrongClusterType
from ansible_collections.gpve.cluster.plugins.module_utils.registry.records import Cluster, Event, Status
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import Json, json_or_null, utcnow

INITIAL_PHASE = "Pending"
TRANSITION_EVENT = "Transition"
STATUS_COLUMNS = ("phase", "message", "endpoint", "version", "node_count", "ready_nodes", "pod_count", "conditions",
                  "resources", "last_heartbeat", "ready_at", "updated_at", "resource_version")
# What update_status may set; the phase changes only through lifecycle.transition.
STATUS_FIELDS = ("message", "endpoint", "version", "node_count", "ready_nodes", "pod_count", "conditions", "resources",
                 "last_heartbeat", "ready_at")
_STATUS_TEXT_LIMITS = {"message": 65536, "endpoint": 512, "version": 32}
_SPEC_TEXT_LIMITS = {"endpoint": 512}  # other scalar spec columns hold up to 32 characters
_SELECT = ("SELECT c.*, " + ", ".join(f"s.{column} AS status__{column}" for column in STATUS_COLUMNS)
           + " FROM clusters c JOIN cluster_status s ON s.cluster_id = c.id")


def new_id():
    return uuid.uuid4().hex


def placeholders(values):
    return ", ".join(["?"] * len(values))


# Validation and conversion --------------------------------------------------------------

def _spec_row(cluster_type, spec):
    """Split a spec into the columns of its type's table; unknown keys go to ``extra``."""
    spec = validation.document("spec", spec if spec is not None else {}, required=True)
    table, scalars, sections = schema.SPEC_TABLES[cluster_type]
    for field in schema.REQUIRED_SPEC_FIELDS[cluster_type]:
        if spec.get(field) is None:
            raise ValidationError(f"spec.{field}", f"is required for {cluster_type} clusters")
    for field in scalars:
        if spec.get(field) is not None:
            validation.text(f"spec.{field}", spec[field], max_length=_SPEC_TEXT_LIMITS.get(field, 32))
            choices = schema.SPEC_CHOICES.get(field)
            if choices and spec[field] not in choices:
                raise ValidationError(f"spec.{field}", f"must be one of {', '.join(choices)}, not {spec[field]!r}")
    columns = {field: spec.get(field) for field in scalars}
    columns.update({field: json_or_null(spec.get(field)) for field in sections})
    columns["extra"] = Json({key: value for key, value in spec.items() if key not in scalars + sections})
    return table, columns


def _spec_from_row(cluster_type, row):
    _table, scalars, sections = schema.SPEC_TABLES[cluster_type]
    spec = {field: row[field] for field in scalars + sections if row.get(field) is not None}
    spec.update(row.get("extra") or {})
    return spec


def _status_fields(fields):
    if "phase" in fields:
        raise ValidationError("phase", "changes only through lifecycle.transition, which checks and records the transition")
    validation.known_fields("status", fields, STATUS_FIELDS)
    checked = {}
    for field, value in fields.items():
        if field in ("node_count", "ready_nodes", "pod_count"):
            checked[field] = validation.count(field, value)
        elif field in ("last_heartbeat", "ready_at"):
            checked[field] = validation.timestamp(field, value)
        elif field == "conditions":
            checked[field] = Json(validation.document(field, value, kind=list) or [])
        elif field == "resources":
            checked[field] = Json(validation.document(field, value) or {})
        else:
            checked[field] = validation.text(field, value, max_length=_STATUS_TEXT_LIMITS[field], required=False)
    return checked


def status_from_row(row, prefix="status__"):
    return Status(**{column: row[prefix + column] for column in STATUS_COLUMNS})


def cluster_from_row(row, spec):
    return Cluster(id=row["id"], name=row["name"], type=row["type"], provider=row["provider"], labels=row["labels"],
                   annotations=row["annotations"], spec=spec, status=status_from_row(row), created_at=row["created_at"],
                   updated_at=row["updated_at"], deleted_at=row["deleted_at"], resource_version=row["resource_version"])


def event_from_row(row):
    return Event(id=row["id"], cluster_id=row["cluster_id"], type=row["type"], reason=row["reason"],
                 message=row["message"], metadata=row["metadata"], timestamp=row["timestamp"])


# Reads inside a transaction -------------------------------------------------------------

def select_clusters(tx, ids=None, name=None, cluster_type=None, phase=None, labels=None, include_deleted=False,
                    limit=None, offset=0):
    """Clusters (with spec and status) matching every given filter, ordered by name."""
    where, params = _filters(tx, ids, name, cluster_type, phase, labels, include_deleted)
    if where is None:
        return []
    page, page_params = tx.paginate(limit, offset)
    rows = tx.all(f"{_SELECT}{where} ORDER BY c.name, c.created_at, c.id{page}", params + page_params)
    specs = load_specs(tx, rows)
    return [cluster_from_row(row, specs.get(row["id"], {})) for row in rows]


INVENTORY_CLUSTER_COLUMNS = ("c.id", "c.name", "c.type", "c.provider", "c.labels", "s.phase", "s.message", "s.endpoint",
                             "s.version", "s.node_count", "s.ready_nodes", "s.last_heartbeat")
INVENTORY_NODE_COLUMNS = ("n.cluster_id", "n.name", "n.role", "n.pool_name", "n.vmid", "n.status", "n.ip_address", "n.labels",
                          "n.resources")


def inventory_rows(tx, cluster_type=None, phase=None, labels=None):
    """(cluster rows, node rows) as plain dicts holding only what an inventory shows; two queries.

    Cluster rows (ordered by name) have id, name, type, provider, labels, phase, message,
    endpoint, version, node_count, ready_nodes and last_heartbeat; node rows (ordered by
    cluster, role, name) have cluster_id, name, role, pool_name, vmid, status, ip_address,
    labels and resources, for the nodes of those clusters. No spec, no record objects:
    made for reading thousands of clusters at once.
    """
    where, params = _filters(tx, cluster_type=cluster_type, phase=phase, labels=labels)
    tables = " FROM clusters c JOIN cluster_status s ON s.cluster_id = c.id"
    clusters = tx.all(f"SELECT {', '.join(INVENTORY_CLUSTER_COLUMNS)}{tables}{where} ORDER BY c.name, c.created_at, c.id", params)
    nodes = tx.all(f"SELECT {', '.join(INVENTORY_NODE_COLUMNS)} FROM cluster_nodes n JOIN clusters c ON c.id = n.cluster_id "
                   f"JOIN cluster_status s ON s.cluster_id = c.id{where} ORDER BY n.cluster_id, n.role, n.name", params)
    return clusters, nodes


def count_clusters(tx, **filters):
    where, params = _filters(tx, **filters)
    if where is None:
        return 0
    return tx.one(f"SELECT COUNT(*) AS n FROM clusters c JOIN cluster_status s ON s.cluster_id = c.id{where}", params)["n"]


def _filters(tx, ids=None, name=None, cluster_type=None, phase=None, labels=None, include_deleted=False):
    """(WHERE clause, params); None when the filter can match nothing (an empty id list)."""
    clauses, params = [], []
    if not include_deleted:
        clauses.append("c.deleted_at IS NULL")
    if ids is not None:
        ids = list(ids)
        if not ids:
            return None, []
        clauses.append(f"c.id IN ({placeholders(ids)})")
        params.extend(ids)
    for column, value in (("c.name", name), ("c.type", cluster_type), ("s.phase", phase)):
        if value is None:
            continue
        values = [value] if isinstance(value, str) else list(value)
        clauses.append(f"{column} IN ({placeholders(values)})")
        params.extend(values)
    if labels:
        clause, label_params = tx.labels_match("c.labels", validation.string_map("labels", labels))
        clauses.append(clause)
        params.extend(label_params)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def load_specs(tx, cluster_rows):
    """cluster id -> spec, one query per cluster type present."""
    ids_by_type = {}
    for row in cluster_rows:
        if row["type"] in schema.SPEC_TABLES:
            ids_by_type.setdefault(row["type"], []).append(row["id"])
    specs = {}
    for cluster_type, ids in ids_by_type.items():
        table = schema.SPEC_TABLES[cluster_type][0]
        for row in tx.all(f"SELECT * FROM {table} WHERE cluster_id IN ({placeholders(ids)})", ids):
            specs[row["cluster_id"]] = _spec_from_row(cluster_type, row)
    return specs


def get_one(tx, cluster_id=None, name=None, include_deleted=False):
    found = select_clusters(tx, ids=None if cluster_id is None else [cluster_id], name=name, include_deleted=include_deleted)
    if not found:
        raise NotFound("cluster", cluster_id if cluster_id is not None else name)
    return found[0]


def require_live(tx, cluster_id):
    if tx.one("SELECT id FROM clusters WHERE id = ? AND deleted_at IS NULL", (cluster_id,)) is None:
        raise NotFound("cluster", cluster_id)


def insert_event(tx, cluster_id, event_type, reason, message, metadata):
    event_id = new_id()
    tx.execute("INSERT INTO cluster_events (id, cluster_id, type, reason, message, metadata, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (event_id, cluster_id, event_type, reason, message, metadata or {}, utcnow()))
    return event_from_row(tx.one("SELECT * FROM cluster_events WHERE id = ?", (event_id,)))


class ClusterOps:
    """Store methods for clusters, their specs and status."""

    def create_cluster(self, name, type, spec=None, labels=None, annotations=None, provider=None, message=None):  # pylint: disable=redefined-builtin
        """Register a cluster in phase Pending, with its spec and a first event, in one transaction."""
        validation.text("name", name)
        cluster_type = validation.cluster_type(type)
        labels = validation.string_map("labels", labels)
        annotations = validation.string_map("annotations", annotations)
        validation.text("provider", provider, max_length=64, required=False)
        table, spec_columns = _spec_row(cluster_type, spec)

        def work(tx):
            if tx.one("SELECT id FROM clusters WHERE name = ? AND deleted_at IS NULL", (name,)):
                raise DuplicateName("cluster", name)
            cluster_id, now = new_id(), utcnow()
            tx.execute("INSERT INTO clusters (id, name, type, provider, labels, annotations, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (cluster_id, name, cluster_type, provider, labels, annotations, now, now))
            columns = ["cluster_id"] + list(spec_columns)
            tx.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders(columns)})",
                       [cluster_id] + list(spec_columns.values()))
            tx.execute("INSERT INTO cluster_status (cluster_id, phase, message, updated_at) VALUES (?, ?, ?, ?)",
                       (cluster_id, INITIAL_PHASE, message, now))
            insert_event(tx, cluster_id, TRANSITION_EVENT, "Registered", message or "cluster registered",
                         {"from": None, "to": INITIAL_PHASE, "trigger": "Registered"})
            self._audit(tx, "create", "cluster", cluster_id, cluster_id, {"name": name, "type": cluster_type})
            return get_one(tx, cluster_id)

        try:
            return self._write(work)
        except UniqueViolation:
            raise DuplicateName("cluster", name) from None

    def get_cluster(self, cluster_id, include_deleted=False):
        """The cluster with that id (NotFound if absent or soft-deleted, unless include_deleted)."""
        return self._read(lambda tx: get_one(tx, cluster_id=cluster_id, include_deleted=include_deleted))

    def get_cluster_by_name(self, name):
        """The live cluster with that name (NotFound otherwise)."""
        return self._read(lambda tx: get_one(tx, name=name))

    def find_cluster(self, name, type=None):  # pylint: disable=redefined-builtin
        """The live cluster with that name, or None; with type, a live cluster of another type by that name is refused.

        Raises WrongClusterType (a ValidationError on ``name``) in that case: a module managing one cluster type
        never takes over, nor deletes, a cluster of another type that happens to share the name.
        """
        found = self._read(lambda tx: select_clusters(tx, name=name))
        cluster = found[0] if found else None
        if cluster is not None and type is not None and cluster.type != type:
            raise WrongClusterType(name, cluster.type, type)
        return cluster

    def query_clusters(self, ids=None, name=None, type=None, phase=None, labels=None, include_deleted=False,  # pylint: disable=redefined-builtin
                       limit=None, offset=0):
        """Clusters matching every given filter (labels: all must match), ordered by name.

        name, type and phase take one value or a list of values.
        """
        return self._read(lambda tx: select_clusters(tx, ids, name, type, phase, labels, include_deleted, limit, offset))

    def count_clusters(self, ids=None, name=None, type=None, phase=None, labels=None, include_deleted=False):  # pylint: disable=redefined-builtin
        return self._read(lambda tx: count_clusters(tx, ids=ids, name=name, cluster_type=type, phase=phase, labels=labels,
                                                    include_deleted=include_deleted))

    def update_cluster(self, cluster_id, expected_version, spec=None, labels=None, annotations=None, provider=None):
        """Replace the given parts of the desired state if resource_version still equals expected_version.

        Unchanged values write nothing and keep the version. Raises Conflict when the cluster
        changed since it was read, NotFound when it is gone.
        """
        validation.version("expected_version", expected_version)
        if expected_version is None:
            raise ValidationError("expected_version", "is required: pass the resource_version you read")
        changes = {}
        if labels is not None:
            changes["labels"] = validation.string_map("labels", labels)
        if annotations is not None:
            changes["annotations"] = validation.string_map("annotations", annotations)
        if provider is not None:
            changes["provider"] = validation.text("provider", provider, max_length=64)

        def work(tx):
            current = get_one(tx, cluster_id)
            if current.resource_version != expected_version:
                raise Conflict("cluster", cluster_id, expected_version)
            changed = {field: value for field, value in changes.items() if getattr(current, field) != value}
            new_spec = spec is not None and spec != current.spec
            if not changed and not new_spec:
                return current
            self._cas_cluster(tx, cluster_id, expected_version, changed)
            if new_spec:
                table, columns = _spec_row(current.type, spec)
                tx.execute(f"UPDATE {table} SET {', '.join(f'{column} = ?' for column in columns)} WHERE cluster_id = ?",
                           list(columns.values()) + [cluster_id])
            self._audit(tx, "update", "cluster", cluster_id, cluster_id, {"fields": sorted(changed) + (["spec"] if new_spec else [])})
            return get_one(tx, cluster_id)

        return self._write(work)

    @staticmethod
    def _cas_cluster(tx, cluster_id, expected_version, changes):
        assignments = "".join(f"{field} = ?, " for field in changes)
        updated = tx.execute(f"UPDATE clusters SET {assignments}updated_at = ?, resource_version = resource_version + 1 "
                             "WHERE id = ? AND resource_version = ? AND deleted_at IS NULL",
                             list(changes.values()) + [utcnow(), cluster_id, expected_version])
        if updated != 1:
            raise Conflict("cluster", cluster_id, expected_version)

    # Status -----------------------------------------------------------------------------

    def get_status(self, cluster_id):
        return self._read(lambda tx: get_one(tx, cluster_id).status)

    def update_status(self, cluster_id, expected_version=None, **fields):
        """Set observed-state fields (not the phase). With expected_version, only if the status is unchanged."""
        validation.version("expected_version", expected_version)
        checked = _status_fields(fields)

        def work(tx):
            require_live(tx, cluster_id)
            assignments = "".join(f"{field} = ?, " for field in checked)
            sql = (f"UPDATE cluster_status SET {assignments}updated_at = ?, resource_version = resource_version + 1 "
                   "WHERE cluster_id = ?")
            params = list(checked.values()) + [utcnow(), cluster_id]
            if expected_version is not None:
                sql += " AND resource_version = ?"
                params.append(expected_version)
            if tx.execute(sql, params) != 1:
                raise Conflict("status", cluster_id, expected_version)
            self._audit(tx, "update", "status", cluster_id, cluster_id, {"fields": sorted(checked)})
            return get_one(tx, cluster_id).status

        return self._write(work)

    def change_phase(self, cluster_id, expected_version, from_phase, to_phase, trigger, message=None, fields=None,
                     mark_deleted=False):
        """Move the phase from from_phase to to_phase by compare-and-swap, with its event, in one transaction.

        This is lifecycle.transition's primitive: it does not check the transition table. Entering
        Running stamps ready_at once; mark_deleted soft-deletes the cluster in the same transaction.
        Returns (Status, Event).
        """
        checked = _status_fields(fields or {})
        validation.text("trigger", trigger, max_length=64)

        def work(tx):
            require_live(tx, cluster_id)
            now = utcnow()
            assignments = "".join(f"{field} = ?, " for field in checked)
            ready = "ready_at = COALESCE(ready_at, ?), " if to_phase == "Running" else ""
            params = list(checked.values()) + ([now] if ready else [])
            updated = tx.execute(
                f"UPDATE cluster_status SET {assignments}{ready}phase = ?, message = ?, updated_at = ?, "
                "resource_version = resource_version + 1 WHERE cluster_id = ? AND resource_version = ? AND phase = ?",
                params + [to_phase, message, now, cluster_id, expected_version, from_phase])
            if updated != 1:
                raise Conflict("status", cluster_id, expected_version)
            event = insert_event(tx, cluster_id, TRANSITION_EVENT, trigger, message,
                                 {"from": from_phase, "to": to_phase, "trigger": trigger})
            if mark_deleted:
                tx.execute("UPDATE clusters SET deleted_at = ?, updated_at = ?, resource_version = resource_version + 1 "
                           "WHERE id = ?", (now, now, cluster_id))
            self._audit(tx, "transition", "status", cluster_id, cluster_id,
                        {"from": from_phase, "to": to_phase, "trigger": trigger, "deleted": bool(mark_deleted)})
            return get_one(tx, cluster_id, include_deleted=True).status, event

        return self._write(work)
