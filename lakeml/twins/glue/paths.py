"""Where the twin's S3 is: `s3://<lake bucket>/<key>` is `<lake folder>/<key>`, the same mapping as the
local lake adapter (`lakeml.core.lake.local.LocalLake.resolve`).

dbt-glue only ever speaks S3 (its profile `location`, the `lake_root` variable, Data Catalog locations),
exactly as on AWS. The twin rewrites the lake bucket's URIs to `file://` URIs in every statement and
Data Catalog write before Spark sees them, and rewrites the lake folder back to the bucket in everything
it answers (statement output, Data Catalog reads), so the client never sees a local path and the lake
stays the local folder, written by the twin's Spark. Paths outside the lake (Spark's own warehouse of
databases created without a location) are answered as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LakeMap:
    folder: Path
    buckets: tuple[str, ...]

    @classmethod
    def create(cls, folder: Path, buckets: Iterable[str]) -> LakeMap:
        return cls(folder.resolve(), tuple(sorted(set(buckets))))

    @property
    def primary_bucket(self) -> str:
        return self.buckets[0]

    def to_local(self, text: str) -> str:
        """Every `s3://<bucket>` (also s3a/s3n) of a lake bucket in `text` -> the lake folder's file URI."""
        if not self.buckets:
            return text
        names = "|".join(re.escape(b) for b in self.buckets)
        return re.sub(rf"s3[an]?://(?:{names})(?![\w.-])", self.folder.as_uri(), text)

    def to_s3(self, text: str, bucket: str | None = None) -> str:
        """Every file URI of the lake folder (`file:/…` or `file:///…`) in `text` -> `s3://<bucket>`."""
        folder = re.escape(str(self.folder).lstrip("/"))
        return re.sub(rf"file:/+{folder}(?![\w.-])", f"s3://{bucket or self.primary_bucket}", text)
