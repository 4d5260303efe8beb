"""AWS adapter of the lake's storage port: an S3 bucket through pyarrow's S3 filesystem."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlparse

import pyarrow.fs as pafs

from lakeml.core.lake.port import join


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
