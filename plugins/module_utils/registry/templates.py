# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VM templates and cluster templates: named documents, unique by name, with CAS updates."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.registry import validation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.clusters import new_id, placeholders
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import Conflict, DuplicateName, NotFound, UniqueViolation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.records import ClusterTemplate, VMTemplate
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow


class _Kind:
    """How one template table is checked and read."""

    def __init__(self, table, kind, record, texts, documents, required):
        self.table = table
        self.kind = kind
        self.record = record
        self.texts = texts          # field -> max length
        self.documents = documents  # JSON mapping fields
        self.required = required

    @property
    def fields(self):
        return tuple(self.texts) + tuple(self.documents)

    def check(self, fields, creating):
        validation.known_fields(self.kind, fields, self.fields)
        if creating:
            for field in self.required:
                if fields.get(field) is None:
                    raise validation.ValidationError(field, f"is required for a {self.kind}")
        checked = {}
        for field, value in fields.items():
            if field in self.documents:
                checked[field] = validation.document(field, value, required=field in self.required) or {}
            else:
                checked[field] = validation.text(field, value, max_length=self.texts[field], required=field in self.required)
        return checked


VM_TEMPLATE = _Kind("vm_templates", "vm template", VMTemplate,
                    {"os_type": 32, "os_version": 32, "cloud_init_template": 1 << 20}, ("default_resources",),
                    ("os_type", "default_resources"))
CLUSTER_TEMPLATE = _Kind("cluster_templates", "cluster template", ClusterTemplate,
                         {"type": 32, "description": 4096}, ("spec_template", "default_values"), ("type", "spec_template"))


class TemplateOps:
    """Store methods for vm_templates and cluster_templates."""

    def create_vm_template(self, name, os_type, default_resources, os_version=None, cloud_init_template=None):
        fields = dict(os_type=os_type, default_resources=default_resources, os_version=os_version,
                      cloud_init_template=cloud_init_template)
        return self._create_template(VM_TEMPLATE, name, fields)

    def get_vm_template(self, name):
        return self._get_template(VM_TEMPLATE, name)

    def list_vm_templates(self):
        return self._list_templates(VM_TEMPLATE)

    def update_vm_template(self, name, expected_version=None, **fields):
        return self._update_template(VM_TEMPLATE, name, expected_version, fields)

    def delete_vm_template(self, name, expected_version=None):
        return self._delete_template(VM_TEMPLATE, name, expected_version)

    def create_cluster_template(self, name, type, spec_template, default_values=None, description=None):  # pylint: disable=redefined-builtin
        validation.cluster_type(type)
        fields = dict(type=type, spec_template=spec_template, default_values=default_values, description=description)
        return self._create_template(CLUSTER_TEMPLATE, name, fields)

    def get_cluster_template(self, name):
        return self._get_template(CLUSTER_TEMPLATE, name)

    def list_cluster_templates(self):
        return self._list_templates(CLUSTER_TEMPLATE)

    def update_cluster_template(self, name, expected_version=None, **fields):
        if "type" in fields:
            validation.cluster_type(fields["type"])
        return self._update_template(CLUSTER_TEMPLATE, name, expected_version, fields)

    def delete_cluster_template(self, name, expected_version=None):
        return self._delete_template(CLUSTER_TEMPLATE, name, expected_version)

    # Shared -----------------------------------------------------------------------------

    def _create_template(self, kind, name, fields):
        validation.text("name", name)
        checked = kind.check(fields, creating=True)

        def work(tx):
            if tx.one(f"SELECT id FROM {kind.table} WHERE name = ?", (name,)):
                raise DuplicateName(kind.kind, name)
            now = utcnow()
            columns = ["id", "name", "created_at", "updated_at"] + list(checked)
            tx.execute(f"INSERT INTO {kind.table} ({', '.join(columns)}) VALUES ({placeholders(columns)})",
                       [new_id(), name, now, now] + list(checked.values()))
            self._audit(tx, "create", kind.table, name, None, {})
            return self._template_row(tx, kind, name)

        try:
            return self._write(work)
        except UniqueViolation:
            raise DuplicateName(kind.kind, name) from None

    def _get_template(self, kind, name):
        return self._read(lambda tx: self._template_row(tx, kind, name))

    def _list_templates(self, kind):
        return [kind.record(**row) for row in self._read(lambda tx: tx.all(f"SELECT * FROM {kind.table} ORDER BY name"))]

    def _update_template(self, kind, name, expected_version, fields):
        validation.version("expected_version", expected_version)
        checked = kind.check(fields, creating=False)

        def work(tx):
            sql = (f"UPDATE {kind.table} SET {''.join(f'{field} = ?, ' for field in checked)}updated_at = ?, "
                   "resource_version = resource_version + 1 WHERE name = ?")
            params = list(checked.values()) + [utcnow(), name]
            if expected_version is not None:
                sql += " AND resource_version = ?"
                params.append(expected_version)
            if tx.execute(sql, params) != 1:
                self._template_row(tx, kind, name)  # NotFound if it is gone
                raise Conflict(kind.kind, name, expected_version)
            self._audit(tx, "update", kind.table, name, None, {"fields": sorted(checked)})
            return self._template_row(tx, kind, name)

        return self._write(work)

    def _delete_template(self, kind, name, expected_version):
        validation.version("expected_version", expected_version)

        def work(tx):
            current = self._template_row(tx, kind, name)
            if expected_version is not None and current.resource_version != expected_version:
                raise Conflict(kind.kind, name, expected_version)
            tx.execute(f"DELETE FROM {kind.table} WHERE id = ?", (current.id,))
            self._audit(tx, "delete", kind.table, name, None, {})

        self._write(work)

    @staticmethod
    def _template_row(tx, kind, name):
        row = tx.one(f"SELECT * FROM {kind.table} WHERE name = ?", (name,))
        if row is None:
            raise NotFound(kind.kind, name)
        return kind.record(**row)
