"""The lake's filesystem: a folder locally, S3 on AWS, both through `pyarrow.fs` so one code path writes
either. Paths inside the lake are relative (`bronze/ORDERS/...`); `LakeFS.path()` roots them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow.fs as pafs

from lakeml.settings import Settings

BRONZE = "bronze"
SILVER = "silver"
GOLD = "gold"
QUARANTINE = "quarantine"


@dataclass(frozen=True)
class LakeFS:
    fs: pafs.FileSystem
    root: str  # path of the lake root inside `fs` (a directory, or `bucket` on S3)
    uri: str  # the same root as a URI, for engines that take URIs (Spark, DuckDB, SageMaker)

    def path(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *(p.strip("/") for p in parts if p)])

    def uri_of(self, *parts: str) -> str:
        return "/".join([self.uri.rstrip("/"), *(p.strip("/") for p in parts if p)])


def lake(settings: Settings) -> LakeFS:
    """The one switch between the local lake folder and the S3 bucket."""
    if settings.env == "aws":
        root = settings.lake_root.removeprefix("s3://")
        fs = pafs.S3FileSystem(
            region=settings.aws.region,
            endpoint_override=settings.aws.endpoint_url,
            scheme="http" if (settings.aws.endpoint_url or "").startswith("http:") else "https",
        )
        return LakeFS(fs=fs, root=root, uri=f"s3://{root}")
    settings.lake_dir.mkdir(parents=True, exist_ok=True)
    return LakeFS(fs=pafs.LocalFileSystem(), root=str(settings.lake_dir), uri=settings.lake_dir.as_uri())
