# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Prometheus text exposition format (0.0.4): families with HELP and TYPE, escaped label values.

Names follow Prometheus' rules: ``[a-zA-Z_:][a-zA-Z0-9_:]*``, base units (seconds),
``_timestamp_seconds`` for Unix times, ``_info`` for constant-1 metadata series, no
``_total`` on gauges. Each family is written once, with all its samples together.
"""

from __future__ import annotations

import math
import re

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
GAUGE = "gauge"


def escape_label_value(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text):
    return str(text).replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


class Family:
    """One metric family and its samples (label dict, value)."""

    def __init__(self, name, help_text, kind=GAUGE):
        if not METRIC_NAME.match(name):
            raise ValidationError("metric", f"{name!r} is not a valid Prometheus metric name")
        self.name = name
        self.help_text = help_text
        self.kind = kind
        self.samples = []

    def add(self, labels, value):
        for label in labels:
            if not LABEL_NAME.match(label) or label.startswith("__"):
                raise ValidationError("metric", f"{label!r} is not a valid Prometheus label name")
        self.samples.append((labels, value))

    def render(self):
        lines = [f"# HELP {self.name} {escape_help(self.help_text)}", f"# TYPE {self.name} {self.kind}"]
        for labels, value in self.samples:
            rendered = ",".join(f'{key}="{escape_label_value(item)}"' for key, item in labels.items())
            lines.append(f"{self.name}{{{rendered}}} {format_value(value)}" if rendered else f"{self.name} {format_value(value)}")
        return "\n".join(lines)


def render(families):
    """The exposition text of the families that have samples, ending with a newline."""
    return "".join(family.render() + "\n" for family in families if family.samples)
