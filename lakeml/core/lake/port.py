"""The lake's storage port: where the medallion layers live, as a `pyarrow.fs` filesystem and a root.

Paths inside the lake are relative (`bronze/ORDERS/...`); `path()` roots them for `fs`, `uri_of()` for
engines that take URIs (Spark, DuckDB, SageMaker). `resolve()` turns a URI someone else wrote (a
SageMaker job's output, a model artefact) back into a path of `fs`, so readers never branch on where the
lake is. The local adapter is a folder (`local.py`), the AWS adapter an S3 bucket (`s3.py`); both pass
`tests/contract/test_lake_storage.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pyarrow.fs as pafs

BRONZE = "bronze"
SILVER = "silver"
GOLD = "gold"
QUARANTINE = "quarantine"


class LakeStorage(Protocol):
    """A lake root in a filesystem."""

    @property
    def fs(self) -> pafs.FileSystem: ...

    @property
    def root(self) -> str:
        """Path of the lake root inside `fs` (a directory, or the bucket on S3)."""
        ...

    @property
    def uri(self) -> str:
        """The same root as a URI (file:///… or s3://bucket)."""
        ...

    def path(self, *parts: str) -> str:
        """`parts` under the root, as a path of `fs`."""
        ...

    def uri_of(self, *parts: str) -> str:
        """`parts` under the root, as a URI."""
        ...

    def resolve(self, uri: str) -> str:
        """A URI of this lake (or, locally, of the buckets mapped to it) as a path of `fs`; raises
        ValueError naming the URI when it is not in this lake."""
        ...


@dataclass(frozen=True)
class DeletedObject:
    """A lake file that was deleted and can come back: its path (relative to the lake root) and the
    version a restore makes current again (its newest version before the delete)."""

    path: str
    version_id: str


class LakeHistory(Protocol):
    """Earlier versions of the lake's files: what disaster recovery restores from. On AWS the bucket is
    versioned (infra/modules/lake), so a delete leaves a delete marker over the old versions until they
    expire (`noncurrent_version_retention_days`); the local lake is a plain folder and keeps no history.
    Apart from `LakeStorage` because readers and writers never need it, only recovery does."""

    def deleted(self, path: str) -> DeletedObject | None:
        """`path` (relative to the lake root) if it is deleted now and an earlier version of it is kept;
        None if it exists, or if nothing of it is kept."""
        ...

    def deleted_under(self, prefix: str) -> list[DeletedObject]:
        """Every file under `prefix` (relative, ending in '/') that is deleted now and has an earlier
        version kept, by path."""
        ...

    def read(self, obj: DeletedObject) -> bytes:
        """The content of the version a restore would bring back."""
        ...

    def restore(self, obj: DeletedObject) -> None:
        """Make that version the current one again (the delete stays in the history)."""
        ...


def join(base: str, parts: tuple[str, ...]) -> str:
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts if p)])
