# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replacing a file atomically, so a reader never sees half of it and a rerun writes nothing.

The text goes to a temporary file in the same directory, is flushed to disk, gets its final
mode before it has a name anyone reads, and is renamed over the target (a rename within one
file system is atomic).
"""

from __future__ import annotations

import os
import tempfile


def holds(path, text, mode):
    """True when path already holds exactly text with exactly mode."""
    try:
        with open(path, encoding="utf-8") as current:
            return current.read() == text and (os.stat(path).st_mode & 0o777) == mode
    except FileNotFoundError:
        return False


def write_atomically(path, text, mode, directory_mode=None):
    """Replace path with text at mode; False (and no write) when it is already so.

    directory_mode: create a missing parent directory with this mode (None: it must exist).
    """
    path = os.path.abspath(os.path.expanduser(path))
    if holds(path, text, mode):
        return False
    directory = os.path.dirname(path)
    if directory_mode is not None:
        os.makedirs(directory, mode=directory_mode, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), mode)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True
