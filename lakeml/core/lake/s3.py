"""AWS adapters of the lake's ports: the storage, an S3 bucket through pyarrow's S3 filesystem; its history,
the bucket's object versions through boto3."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs
from botocore.exceptions import ClientError

from lakeml.core import aws
from lakeml.core.errors import ConfigError, LakemlError
from lakeml.core.lake.port import DeletedObject, join


@dataclass(frozen=True)
class S3Lake:
    bucket: str
    region: str
    endpoint_url: str | None = None  # emulators only

    @cached_property
    def fs(self) -> pafs.FileSystem:
        return pafs.S3FileSystem(
            region=self.region,
            endpoint_override=self.endpoint_url,
            scheme="http" if (self.endpoint_url or "").startswith("http:") else "https",
            connect_timeout=5,
            request_timeout=60,
        )

    @property
    def root(self) -> str:
        return self.bucket

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}"

    def path(self, *parts: str) -> str:
        return join(self.root, parts)

    def uri_of(self, *parts: str) -> str:
        return join(self.uri, parts)

    def resolve(self, uri: str) -> str:
        parsed = urlparse(uri)
        if parsed.scheme == "s3" and parsed.netloc == self.bucket:
            return self.path(parsed.path.lstrip("/"))
        raise ValueError(f"{uri!r} is not in the lake bucket s3://{self.bucket}/")


@dataclass(frozen=True)
class S3LakeHistory:
    """`LakeHistory` on the versioned lake bucket: a delete is a delete marker over the object's versions,
    and a restore copies the newest earlier version back on top (CopyObject with a VersionId: one call,
    the bytes and their hash unchanged, and the delete stays visible in the object's history)."""

    bucket: str
    region: str
    endpoint_url: str | None = None

    @cached_property
    def s3(self) -> Any:
        return aws.client("s3", self.region, self.endpoint_url)

    def deleted(self, path: str) -> DeletedObject | None:
        return next((obj for obj in self._deleted(path) if obj.path == path), None)

    def deleted_under(self, prefix: str) -> list[DeletedObject]:
        return sorted(self._deleted(prefix), key=lambda obj: obj.path)

    def _deleted(self, prefix: str) -> list[DeletedObject]:
        """Keys under `prefix` whose latest entry is a delete marker, each with its newest version (S3
        lists a key's versions newest first: the first is the one a restore brings back)."""
        newest: dict[str, str] = {}
        live: set[str] = set()
        deleted: set[str] = set()
        try:
            pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                for version in page.get("Versions", []):
                    newest.setdefault(version["Key"], version["VersionId"])
                    if version["IsLatest"]:
                        live.add(version["Key"])
                deleted.update(m["Key"] for m in page.get("DeleteMarkers", []) if m["IsLatest"])
        except ClientError as exc:
            raise self._explain(exc, f"list the versions under {prefix}") from exc
        return [DeletedObject(key, newest[key]) for key in deleted - live if key in newest]

    def read(self, obj: DeletedObject) -> bytes:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=obj.path, VersionId=obj.version_id)
        except ClientError as exc:
            raise self._explain(exc, f"read version {obj.version_id} of {obj.path}") from exc
        return bytes(response["Body"].read())

    def restore(self, obj: DeletedObject) -> None:
        source = {"Bucket": self.bucket, "Key": obj.path, "VersionId": obj.version_id}
        try:
            self.s3.copy_object(Bucket=self.bucket, Key=obj.path, CopySource=source)
        except ClientError as exc:
            raise self._explain(exc, f"restore version {obj.version_id} of {obj.path}") from exc

    def _explain(self, exc: ClientError, action: str) -> LakemlError:
        code = aws.error_code(exc)
        if code in {"AccessDenied", "AccessDeniedException"}:
            return ConfigError(
                f"cannot {action} in s3://{self.bucket}: access denied; recovery needs s3:ListBucketVersions, "
                "s3:GetObjectVersion and s3:PutObject on the lake bucket (and its KMS key): run it as an "
                "operator role that has them"
            )
        if code == "NoSuchBucket":
            return ConfigError(
                f"cannot {action}: bucket {self.bucket!r} does not exist; set LAKEML_AWS__LAKE_BUCKET"
            )
        return LakemlError(f"cannot {action} in s3://{self.bucket}: {code}: {exc}")
