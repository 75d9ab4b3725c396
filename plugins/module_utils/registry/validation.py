# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks the store makes before its first write; errors name the field."""

from __future__ import annotations

import datetime

from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds


def text(field, value, max_length=255, required=True):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    return value


def string_map(field, value):
    """A dict of string keys to string values (labels, annotations); None means empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(field, "must be a mapping of strings to strings")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ValidationError(field, f"entry {key!r} must map a string to a string")
    return dict(value)


def document(field, value, kind=dict, required=False):
    """A mapping (or list) bounded in size once expanded (checks.bounded: YAML aliases count each use)."""
    if value is None and not required:
        return None
    if not isinstance(value, kind):
        raise ValidationError(field, f"must be a {'mapping' if kind is dict else 'list'}")
    return checks.bounded(value, field)


def cluster_type(value):
    if value not in kinds.CLUSTER_TYPES:
        raise ValidationError("type", f"must be one of {', '.join(kinds.CLUSTER_TYPES)}, not {value!r}")
    return value


def count(field, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field, "must be a non-negative integer")
    return value


def timestamp(field, value):
    if value is not None and not isinstance(value, datetime.datetime):
        raise ValidationError(field, "must be a datetime")
    return value


def version(field, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, "must be the integer resource_version you read")
    return value


def known_fields(kind, fields, allowed):
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError(unknown[0], f"is not a {kind} field (known: {', '.join(sorted(allowed))})")
