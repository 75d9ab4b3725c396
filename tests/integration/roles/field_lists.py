"""Checks rendered configs against the published field lists in data/fieldlists (see its README)."""

from __future__ import annotations

import json
from pathlib import Path

FIELD_LISTS = Path(__file__).parent / "data" / "fieldlists"


def load(name: str) -> dict:
    """The schema of data/fieldlists/<name>.json."""
    return json.loads((FIELD_LISTS / f"{name}.json").read_text())["schema"]


def unknown_fields(document, schema, path: str = "") -> list[str]:
    """Every key of document (a dict) the schema does not publish, as dotted paths."""
    found = []
    for key, value in document.items():
        if key not in schema:
            found.append(path + key)
            continue
        sub = schema[key]
        if sub is True or sub == "map":
            continue
        if isinstance(sub, dict) and isinstance(value, dict):
            found += unknown_fields(value, sub, f"{path}{key}.")
        elif isinstance(sub, list) and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    found += unknown_fields(item, sub[0], f"{path}{key}[{index}].")
        else:
            found.append(f"{path}{key} (shape {type(value).__name__})")
    return found
