# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster credentials, encrypted at rest: one per (cluster, type), e.g. kubeconfig, ca-cert, token.

Only envelopes reach the database (see crypto.py); the key id is kept beside each one so a
rotation finds what to rewrap without decrypting everything. Listing never decrypts.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.registry import validation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.clusters import new_id, require_live
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import Conflict, NotFound, UniqueViolation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.records import Credential, CredentialInfo, RotationReport
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow

_INFO_COLUMNS = "id, cluster_id, type, key_id, created_at, updated_at, expires_at, last_used_at, resource_version"


def _plaintext(data):
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    raise validation.ValidationError("data", "must be str or bytes")


class CredentialOps:
    """Store methods for credentials."""

    def put_credential(self, cluster_id, type, data, expires_at=None, expected_version=None):  # pylint: disable=redefined-builtin
        """Encrypt and store the credential of that type for the cluster, replacing any previous one.

        With expected_version, the replacement happens only if the stored credential is unchanged.
        """
        validation.text("type", type, max_length=32)
        validation.timestamp("expires_at", expires_at)
        validation.version("expected_version", expected_version)
        plaintext = _plaintext(data)
        keyring = self.keyring(for_encrypt=True)
        blob = keyring.encrypt(plaintext, cluster_id, type)

        def work(tx):
            require_live(tx, cluster_id)
            now = utcnow()
            current = tx.one("SELECT id, resource_version FROM cluster_credentials WHERE cluster_id = ? AND type = ?", (cluster_id, type))
            if current is None:
                if expected_version is not None:
                    raise Conflict("credential", f"{cluster_id}/{type}", expected_version)
                tx.execute("INSERT INTO cluster_credentials (id, cluster_id, type, data_encrypted, key_id, created_at, updated_at, "
                           "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (new_id(), cluster_id, type, blob, keyring.primary_key_id, now, now, expires_at))
            else:
                sql = ("UPDATE cluster_credentials SET data_encrypted = ?, key_id = ?, updated_at = ?, expires_at = ?, "
                       "resource_version = resource_version + 1 WHERE id = ?")
                params = [blob, keyring.primary_key_id, now, expires_at, current["id"]]
                if expected_version is not None:
                    sql += " AND resource_version = ?"
                    params.append(expected_version)
                if tx.execute(sql, params) != 1:
                    raise Conflict("credential", f"{cluster_id}/{type}", expected_version)
            self._audit(tx, "put", "credential", f"{cluster_id}/{type}", cluster_id, {"type": type, "key_id": keyring.primary_key_id})
            return self._credential_info(tx, cluster_id, type)

        try:
            return self._write(work)
        except UniqueViolation:  # a concurrent first put won the insert
            raise Conflict("credential", f"{cluster_id}/{type}", expected_version) from None

    def get_credential(self, cluster_id, type, touch=False):  # pylint: disable=redefined-builtin
        """The decrypted credential. touch=True also records last_used_at (a write)."""
        row = self._read(lambda tx: tx.one(
            f"SELECT {_INFO_COLUMNS}, data_encrypted FROM cluster_credentials WHERE cluster_id = ? AND type = ?", (cluster_id, type)))
        if row is None:
            raise NotFound("credential", f"{cluster_id}/{type}")
        data = self.keyring().decrypt(row.pop("data_encrypted"), cluster_id, type)
        if touch:
            now = utcnow()
            self._write(lambda tx: tx.execute("UPDATE cluster_credentials SET last_used_at = ? WHERE id = ?", (now, row["id"])))
            row["last_used_at"] = now
        return Credential(info=CredentialInfo(**row), data=data)

    def delete_credential(self, cluster_id, type, expected_version=None):  # pylint: disable=redefined-builtin
        """Delete the credential; True if one existed."""
        validation.version("expected_version", expected_version)

        def work(tx):
            sql, params = "DELETE FROM cluster_credentials WHERE cluster_id = ? AND type = ?", [cluster_id, type]
            if expected_version is not None:
                sql += " AND resource_version = ?"
                params.append(expected_version)
            deleted = tx.execute(sql, params)
            if not deleted and expected_version is not None and self._credential_info(tx, cluster_id, type, missing_ok=True):
                raise Conflict("credential", f"{cluster_id}/{type}", expected_version)
            if deleted:
                self._audit(tx, "delete", "credential", f"{cluster_id}/{type}", cluster_id, {"type": type})
            return bool(deleted)

        return self._write(work)

    def list_credentials(self, cluster_id=None, type=None, expiring_before=None):  # pylint: disable=redefined-builtin
        """Credential metadata (never the secret), ordered by cluster and type."""
        where, params = [], []
        for column, value in (("cluster_id", cluster_id), ("type", type)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if expiring_before is not None:
            where.append("expires_at IS NOT NULL AND expires_at < ?")
            params.append(validation.timestamp("expiring_before", expiring_before))
        sql = f"SELECT {_INFO_COLUMNS} FROM cluster_credentials" + (" WHERE " + " AND ".join(where) if where else "")
        return [CredentialInfo(**row) for row in self._read(lambda tx: tx.all(sql + " ORDER BY cluster_id, type", params))]

    def rotate_credentials(self):
        """Rewrap every credential not yet under the primary key, all in one transaction.

        Any credential that cannot be decrypted aborts the whole rotation (nothing changes) with
        an error naming its key id. Returns how many were rewrapped and how many were current.
        """
        keyring = self.keyring(for_encrypt=True)

        def work(tx):
            rows = tx.all("SELECT id, cluster_id, type, data_encrypted FROM cluster_credentials WHERE key_id <> ? ORDER BY id",
                          (keyring.primary_key_id,))
            current = tx.one("SELECT COUNT(*) AS n FROM cluster_credentials WHERE key_id = ?", (keyring.primary_key_id,))["n"]
            now = utcnow()
            for row in rows:
                plaintext = keyring.decrypt(row["data_encrypted"], row["cluster_id"], row["type"])
                tx.execute("UPDATE cluster_credentials SET data_encrypted = ?, key_id = ?, updated_at = ?, "
                           "resource_version = resource_version + 1 WHERE id = ?",
                           (keyring.encrypt(plaintext, row["cluster_id"], row["type"]), keyring.primary_key_id, now, row["id"]))
            if rows:
                self._audit(tx, "rotate", "keyring", keyring.primary_key_id, None, {"rewrapped": len(rows)})
            return RotationReport(key_id=keyring.primary_key_id, rewrapped=len(rows), already_current=current)

        return self._write(work)

    @staticmethod
    def _credential_info(tx, cluster_id, credential_type, missing_ok=False):
        row = tx.one(f"SELECT {_INFO_COLUMNS} FROM cluster_credentials WHERE cluster_id = ? AND type = ?", (cluster_id, credential_type))
        if row is None:
            if missing_ok:
                return None
            raise NotFound("credential", f"{cluster_id}/{credential_type}")
        return CredentialInfo(**row)
