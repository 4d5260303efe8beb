"""Which event times a SageMaker feature group has fully ingested: one small marker object per event time
in the lake (`feature_store/ingested/<group>/<event time>.json`).

Why markers and not the store itself: SageMaker's offline store lands records in S3 minutes after
PutRecord (so it cannot say what was just written), and the online store answers per record id, not per
event time. Why one object per event time and not one manifest: a marker is written once, after every
record of its event time was put, and never rewritten — no read-modify-write that two runs could race,
and a crash mid-ingestion leaves only that event time unmarked (the next run re-puts its records, which
PutRecord takes as an upsert by record id and event time). Listing the prefix is one call per 1,000
event times.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import pyarrow.fs as pafs

from lakeml.core.lake.runs import write_json

if TYPE_CHECKING:
    from lakeml.core.lake import LakeStorage

SUFFIX = ".json"


class IngestedMarkers:
    """The marker objects of every group, under `feature_store/ingested/` of `lake`."""

    def __init__(self, lake: LakeStorage) -> None:
        self.lake = lake

    def folder(self, group: str) -> str:
        return f"feature_store/ingested/{group}"

    def event_times(self, group: str) -> frozenset[str]:
        selector = pafs.FileSelector(self.lake.path(self.folder(group)), allow_not_found=True)
        return frozenset(
            unquote(info.base_name.removesuffix(SUFFIX))
            for info in self.lake.fs.get_file_info(selector)
            if info.type == pafs.FileType.File
            and info.base_name.endswith(SUFFIX)
            and not info.base_name.startswith(".")
        )

    def mark(self, group: str, counts: Mapping[str, int]) -> None:
        now = datetime.now(UTC).isoformat()
        for event_time, records in counts.items():
            name = quote(event_time, safe="") + SUFFIX
            write_json(
                self.lake,
                f"{self.folder(group)}/{name}",
                {"event_time": event_time, "records": records, "marked_at": now},
            )
