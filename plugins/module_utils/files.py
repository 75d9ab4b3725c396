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

PRIVATE_DIRECTORY = 0o700


def make_private_dirs(directory, mode=PRIVATE_DIRECTORY):
    """Create directory and every missing parent with exactly mode (0700), whatever the umask.

    Directories that already exist are left as they are: they are not the collection's.
    Returns the directories created, outermost first.
    """
    directory = os.path.abspath(os.path.expanduser(directory))
    missing = []
    while not os.path.isdir(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    created = []
    for path in reversed(missing):
        try:
            os.mkdir(path, mode)
        except FileExistsError:
            if not os.path.isdir(path):
                raise
            continue  # made by a concurrent run: not ours to chmod
        os.chmod(path, mode)  # mkdir's mode passes through the umask; chmod does not
        created.append(path)
    return created


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
        make_private_dirs(directory, directory_mode)
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
