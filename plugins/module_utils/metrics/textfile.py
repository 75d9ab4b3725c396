# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a textfile-collector file atomically: node_exporter must never read half of it.

The text goes to a temporary file in the same directory, is flushed to disk, gets the
final mode, and is renamed over the target (a rename within one file system is atomic).
node_exporter reads only ``*.prom`` files, so other names are refused.
"""

from __future__ import annotations

import os

from ansible_collections.gpve.cluster.plugins.module_utils import checks, files
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

FILE_MODE = 0o644
SUFFIX = ".prom"


def check_destination(path):
    if not str(path).endswith(SUFFIX):
        raise ValidationError("dest", f"node_exporter's textfile collector reads only *{SUFFIX} files; got {path}")
    directory = os.path.dirname(os.path.abspath(os.path.expanduser(path)))
    if not os.path.isdir(directory):
        raise ValidationError("dest", f"the directory {directory} does not exist")
    checks.writable_destination(path, "dest")


def unchanged(path, text):
    return files.holds(os.path.abspath(os.path.expanduser(path)), text, FILE_MODE)


def write_atomically(path, text, mode=FILE_MODE):
    """Replace path with text; returns False (and writes nothing) when it already holds exactly that."""
    check_destination(path)
    return files.write_atomically(path, text, mode)
