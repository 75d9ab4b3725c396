# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Archives in an S3 bucket (AWS or any S3-compatible endpoint) through boto3.

Archives above ``multipart_threshold`` go up as a multipart upload (boto3's transfer
manager, parts in parallel; an upload that fails is aborted, so no partial object is
left). The object exists only once the upload completes: readers never see half an
archive. Credentials come from the options, else boto3's own chain (environment,
shared files, instance roles).
"""

from __future__ import annotations

import traceback

from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import StorageError

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()
    BotoCoreError = ClientError = None

MIB = 1024 * 1024
MULTIPART_THRESHOLD = 64 * MIB
MULTIPART_CHUNKSIZE = 16 * MIB
DEFAULT_REGION = "us-east-1"


class S3Storage:
    type = "s3"

    def __init__(self, bucket, prefix="", endpoint_url=None, region=None, access_key=None, secret_key=None,
                 multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNKSIZE):
        if not HAS_BOTO3:
            raise StorageError(f"the Python library boto3 is required for S3 storage: {BOTO3_IMPORT_ERROR}")
        if not bucket:
            raise StorageError("storage.bucket: required for S3 storage (or GPVE_BACKUP_S3_BUCKET)")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix and prefix.strip("/") else ""
        self.endpoint_url = endpoint_url or None
        self.region = region or DEFAULT_REGION
        self._transfer = TransferConfig(multipart_threshold=multipart_threshold, multipart_chunksize=multipart_chunksize)
        self._client = boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region, aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None, config=Config(retries={"max_attempts": 5, "mode": "standard"}))

    def settings(self):
        """What a backup records about its storage: never the keys."""
        return {"type": self.type, "bucket": self.bucket, "prefix": self.prefix, "endpoint_url": self.endpoint_url,
                "region": self.region}

    def location(self, key):
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def store(self, source_path, key):
        self._do(f"upload to {self.location(key)}", self._client.upload_file, source_path, self.bucket,
                 self.prefix + key, Config=self._transfer)
        return self.location(key)

    def fetch(self, key, destination_path):
        self._do(f"download of {self.location(key)}", self._client.download_file, self.bucket, self.prefix + key,
                 destination_path, Config=self._transfer)

    def delete(self, key):
        """Delete the object; False when it was already gone."""
        if not self.exists(key):
            return False
        self._do(f"delete of {self.location(key)}", self._client.delete_object, Bucket=self.bucket, Key=self.prefix + key)
        return True

    def exists(self, key):
        try:
            self._client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(f"S3 head of {self.location(key)} failed: {error}") from None
        except BotoCoreError as error:
            raise StorageError(f"S3 head of {self.location(key)} failed: {error}") from None
        return True

    def head(self, key):
        """The object's metadata as S3 reports it (ETag, ContentLength...)."""
        return self._do(f"head of {self.location(key)}", self._client.head_object, Bucket=self.bucket,
                        Key=self.prefix + key)

    def _do(self, what, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except (ClientError, BotoCoreError) as error:
            raise StorageError(f"S3 {what} failed: {error}") from None
        except Exception as error:  # pylint: disable=broad-exception-caught
            # s3transfer wraps failures of its worker threads in its own exception types.
            if type(error).__module__.startswith(("s3transfer", "boto3")):
                raise StorageError(f"S3 {what} failed: {error}") from None
            raise
