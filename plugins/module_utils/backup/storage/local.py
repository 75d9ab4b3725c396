# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Archives in a local directory (0700), written under a temp name and renamed into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from urllib.parse import quote

from ansible_collections.gpve.cluster.plugins.module_utils import files
from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import StorageError

CHUNK = 1024 * 1024


class LocalStorage:
    type = "local"

    def __init__(self, path):
        self.root = os.path.abspath(os.path.expanduser(path))

    @staticmethod
    def default_path(environ=None):
        """$XDG_DATA_HOME/gpve/backups, beside the default registry."""
        environ = os.environ if environ is None else environ
        data_home = environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        return os.path.join(data_home, "gpve", "backups")

    def settings(self):
        return {"type": self.type, "path": self.root}

    def location(self, key):
        return "file://" + quote(self._path(key))

    def store(self, source_path, key):
        """Copy the archive at source_path to key atomically; its location URL."""
        target = self._path(key)
        directory = os.path.dirname(target)
        try:
            files.make_private_dirs(directory)  # the root and every level below it 0700, whatever the umask
            fd, partial = tempfile.mkstemp(dir=directory, prefix=".partial-")
            try:
                with os.fdopen(fd, "wb") as out, open(source_path, "rb") as source:
                    shutil.copyfileobj(source, out, CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(partial, target)
            except BaseException:
                if os.path.exists(partial):
                    os.unlink(partial)
                raise
            _fsync_directory(directory)
        except OSError as error:
            raise StorageError(f"cannot write the archive to {target}: {error}") from None
        return self.location(key)

    def fetch(self, key, destination_path):
        try:
            shutil.copyfile(self._path(key), destination_path)
        except FileNotFoundError:
            raise StorageError(f"archive {self._path(key)} does not exist") from None
        except OSError as error:
            raise StorageError(f"cannot read the archive {self._path(key)}: {error}") from None

    def delete(self, key):
        """Remove the archive; False when it was already gone."""
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            return False
        except OSError as error:
            raise StorageError(f"cannot delete the archive {self._path(key)}: {error}") from None
        return True

    def exists(self, key):
        return os.path.isfile(self._path(key))

    def _path(self, key):
        path = os.path.normpath(os.path.join(self.root, key))
        if not path.startswith(self.root + os.sep):
            raise StorageError(f"archive key {key!r} leaves the storage directory")
        return path


def _fsync_directory(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
