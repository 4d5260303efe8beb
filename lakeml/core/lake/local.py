"""Local adapters of the lake's ports: the storage, a folder with the S3 buckets the pipeline names mapped to
it; its history, which a folder does not keep."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.fs as pafs

from lakeml.core.errors import UsageError
from lakeml.core.lake.port import DeletedObject, join

# The bucket name the SageMaker pipeline definition uses when no real bucket is configured.
PLACEHOLDER_BUCKET = "lakeml-lake"


@dataclass(frozen=True)
class LocalLake:
    folder: Path
    buckets: frozenset[str] = field(default_factory=lambda: frozenset({PLACEHOLDER_BUCKET}))

    @classmethod
    def create(cls, folder: Path, buckets: Iterable[str | None] = ()) -> LocalLake:
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder, frozenset({PLACEHOLDER_BUCKET, *(b for b in buckets if b)}))

    @property
    def fs(self) -> pafs.FileSystem:
        return pafs.LocalFileSystem()

    @property
    def root(self) -> str:
        return str(self.folder)

    @property
    def uri(self) -> str:
        return self.folder.as_uri()

    def path(self, *parts: str) -> str:
        return join(self.root, parts)

    def uri_of(self, *parts: str) -> str:
        return join(self.uri, parts)

    def resolve(self, uri: str) -> str:
        parsed = urlparse(uri)
        if parsed.scheme == "s3" and parsed.netloc in self.buckets:
            return self.path(parsed.path.lstrip("/"))
        if parsed.scheme == "file":
            return parsed.path
        if parsed.scheme == "" and Path(uri).is_absolute():
            return uri
        raise ValueError(
            f"{uri!r} is not in the local lake ({self.folder}); locally s3://{{{', '.join(sorted(self.buckets))}}}/ "
            "URIs map to the lake folder"
        )


@dataclass(frozen=True)
class LocalLakeHistory:
    """`LakeHistory` of the local lake: a folder keeps no earlier versions, so there is nothing to restore
    from; every call says so and what to do instead (the AWS lake bucket is versioned)."""

    folder: Path

    def deleted(self, path: str) -> DeletedObject | None:
        raise self._no_versions(path)

    def deleted_under(self, prefix: str) -> list[DeletedObject]:
        raise self._no_versions(prefix)

    def read(self, obj: DeletedObject) -> bytes:
        raise self._no_versions(obj.path)

    def restore(self, obj: DeletedObject) -> None:
        raise self._no_versions(obj.path)

    def _no_versions(self, path: str) -> UsageError:
        return UsageError(
            f"the local lake ({self.folder}) is a plain folder and keeps no earlier versions of {path}; "
            "re-ingest instead (`lakeml ingest --table <T> --full-refresh`). Versioned restores need "
            "LAKEML_ENV=aws (the lake bucket is versioned)"
        )
