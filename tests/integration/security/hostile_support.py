"""What the hostile-input tables share: a module run as Ansible runs it, and proof that nothing was written.

A refused run must fail, name the field in its message (and in ``field`` when the module's own validation
refused it), and leave every store as it was: the registry's rows (every table), and the files under the
directories the test watches.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli

TABLES = ("clusters", "vcluster_specs", "k8s_vm_specs", "external_cluster_specs", "cluster_status", "cluster_credentials",
          "cluster_nodes", "cluster_events", "cluster_backups", "vm_templates", "cluster_templates", "audit_log")


def registry_rows(location):
    """Every row of the registry's tables (a missing SQLite file: None), for before/after comparisons."""
    if not location.startswith("postgresql://") and not os.path.exists(location):
        return None
    with open_registry(location, environ={}) as store:
        return {table: _rows(store, table) for table in TABLES}


def _rows(store, table):
    rows = store._read(lambda tx: tx.all(f"SELECT * FROM {table}"))  # pylint: disable=protected-access
    return sorted(repr(sorted(row.items())) for row in rows)


def make_sandbox(tmp_path):
    """A directory holding one regular file (a-file): destinations under it cannot be created."""
    root = tmp_path / "sandbox"
    root.mkdir()
    (root / "a-file").write_text("x\n")
    return root


def files_under(*roots):
    """{path: (mode, size)} of everything under roots (symlinks not followed)."""
    seen = {}
    for root in roots:
        if not os.path.lexists(root):
            continue
        for directory, dirs, names in os.walk(root):
            for name in dirs + names:
                path = os.path.join(directory, name)
                info = os.lstat(path)
                seen[path] = (stat.S_IMODE(info.st_mode), info.st_size if stat.S_ISREG(info.st_mode) else 0)
    return seen


def refused(module, args, tmp_path, field, env=None):
    """Run module with args; assert it failed naming field. Returns the result."""
    result = ansible_cli.run_module(module, args, tmp_path, env=env)
    assert result.get("failed"), f"{module} accepted {str(args)[:300]}: {str(result)[:600]}"
    message = str(result.get("msg", ""))
    assert field in message or result.get("field") == field, f"{module}: {field!r} not named in {message!r}"
    if result.get("field") is not None:
        assert result["field"] == field, (result["field"], message)
    return result


# The hostile values every cluster or object name is tried with: (case id, value).
NAME_ATTACKS = [
    ("shell", "a;rm -rf /"),
    ("traversal", "../lab"),
    ("empty", ""),
    ("substitution", "$(id)"),
    ("unicode", "l\u00e4b"),
    ("huge", "l" * 300),
    ("newline", "lab\nkind: Secret"),
]


def name_cases(field="name"):
    """(id, arguments, field) rows trying field with every NAME_ATTACKS value."""
    return [(f"{field}-{label}", {field: value}, field) for label, value in NAME_ATTACKS]


def registry_cases(secret):
    """(id, arguments, field) rows with registries that are neither a path nor a postgresql:// DSN."""
    return [
        ("registry-mysql", {"registry": f"mysql://root:{secret}@db/gpve"}, "registry"),
        ("registry-libpq", {"registry": f"host=db password={secret}"}, "registry"),
        ("registry-sqlite-url", {"registry": "sqlite:////tmp/gpve.db"}, "registry"),
    ]


def expanded(args, sandbox):
    """args with {sandbox} in string values replaced by the sandbox's path, and None values removed."""
    return {key: value.format(sandbox=sandbox) if isinstance(value, str) and "{sandbox}" in value else value
            for key, value in args.items() if value is not None}


def refused_writing_nothing(module, args, tmp_path, field, registry, sandbox, secret):
    """args ({sandbox} expanded) refused naming field, with the registry's rows and the sandbox's files unchanged
    and secret nowhere in the answer."""
    rows, files = registry_rows(registry), files_under(str(sandbox))
    result = refused(module, expanded(args, sandbox), tmp_path, field)
    assert registry_rows(registry) == rows
    assert files_under(str(sandbox)) == files
    assert secret not in repr(result)
    return result


def accepted_writing(module, args, tmp_path, registry, sandbox):
    """The table's arguments with no hostile value succeed and write (a row or a file where the table looks), so that
    "nothing was written" in the table's refusals means something."""
    rows, files = registry_rows(registry), files_under(str(sandbox))
    result = ansible_cli.run_module(module, expanded(args, sandbox), tmp_path)
    assert not result.get("failed"), result.get("msg")
    assert (registry_rows(registry), files_under(str(sandbox))) != (rows, files)
    return result
