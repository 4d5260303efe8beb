"""Disaster recovery of a deleted bronze run: bring its manifest and parts back from the lake's history.

A run is its manifest plus the parts it lists (`ingestion.manifest`). Deleting them (a wrong `aws s3 rm`,
a bad lifecycle rule) leaves delete markers in the versioned lake bucket; `restore_run` copies the newest
earlier version of each deleted file back, checking every part against the sha256 its manifest recorded,
then republishes the table's visibility index so dbt and `lakeml ingest verify` see the run again.

It refuses to bring back a run ingestion itself un-committed: a progressive run that is not on the
table's committed chain (the watermark's run back through each manifest's `from_run_id`) lost a race or
was the second of two crashed candidates, and restoring it would duplicate its rows.
"""

from __future__ import annotations

import hashlib
from typing import Literal, Protocol

import pyarrow.fs as pafs
from pydantic import BaseModel

from ingestion.commit import chain, get_watermark
from ingestion.config import TableConfig
from ingestion.manifest import Manifest, manifest_path, read_manifests
from ingestion.visibility import publish_visibility
from ingestion.watermarks.port import WatermarkStore
from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.lake import DeletedObject, LakeHistory, LakeStorage


class RestorePorts(Protocol):
    """The ports a restore uses: the lake, its history, and the watermarks (for the committed chain)."""

    @property
    def lake(self) -> LakeStorage: ...

    @property
    def lake_history(self) -> LakeHistory: ...

    @property
    def watermarks(self) -> WatermarkStore: ...


class RestoredRun(BaseModel):
    """What `restore_run` did (or, with `dry_run`, would do) for one run."""

    table: str
    run_id: str
    ingest_date: str
    mode: str
    manifest: Literal["present", "restored"]
    restored: list[str]  # lake paths brought back (the manifest first when it was deleted)
    present: int  # files of the run that were never deleted
    dry_run: bool


def restore_run(
    ports: RestorePorts, table: TableConfig, run_id: str, *, dry_run: bool = False
) -> RestoredRun:
    """Bring back run `run_id` of `table` (see the module docstring); a no-op when nothing is deleted."""
    lake, history = ports.lake, ports.lake_history
    manifests = read_manifests(lake, table.lower)
    live = {m.run_id: m for m in manifests}
    path = manifest_path(table.lower, run_id)
    deleted_manifest: DeletedObject | None = None
    if run_id in live:
        manifest = live[run_id]
    else:
        deleted_manifest = history.deleted(path)
        if deleted_manifest is None:
            raise UsageError(
                f"table {table.name} has no run {run_id!r}, live or deleted (no earlier version of {path} in "
                f"the lake); `lakeml ingest verify --table {table.name}` lists the committed windows. "
                "If it was deleted longer ago than the bucket keeps old versions, re-ingest the window "
                f"(`lakeml ingest --table {table.name} --until <its window_high>`)"
            )
        manifest = Manifest.model_validate_json(history.read(deleted_manifest))
        _refuse_uncommitted(ports.watermarks, table, manifest, [*manifests, manifest])

    parts = [*manifest.files, *manifest.quarantine_files]
    missing = [record for record in parts if not _exists(lake, record.path)]
    found: list[DeletedObject] = []
    lost: list[str] = []
    for record in missing:
        obj = history.deleted(record.path)
        if obj is None:
            lost.append(record.path)
            continue
        digest = hashlib.sha256(history.read(obj)).hexdigest()
        if digest != record.sha256:
            raise LakemlError(
                f"the newest earlier version of {record.path} ({obj.version_id}) does not match run {run_id}'s "
                f"manifest (sha256 {digest[:12]}… != {record.sha256[:12]}…); nothing was restored. Inspect "
                "the object's versions (`aws s3api list-object-versions`) or re-ingest the window"
            )
        found.append(obj)
    if lost:
        raise LakemlError(
            f"{len(lost)} file(s) of run {run_id} of {table.name} are gone with no earlier version kept "
            f"(first: {lost[0]}); nothing was restored. Re-ingest the window instead: "
            f"`lakeml ingest --table {table.name} --until {manifest.window_high.isoformat()}` (a backfill run)"
        )
    restoring = found + ([deleted_manifest] if deleted_manifest else [])  # the manifest last: it commits
    if not dry_run:
        for obj in restoring:
            history.restore(obj)
        publish_visibility(lake, [table.name])
    return RestoredRun(
        table=table.name,
        run_id=run_id,
        ingest_date=manifest.ingest_date,
        mode=manifest.mode,
        manifest="restored" if deleted_manifest else "present",
        restored=[obj.path for obj in restoring],
        present=len(parts) - len(missing) + (0 if deleted_manifest else 1),
        dry_run=dry_run,
    )


def _refuse_uncommitted(
    store: WatermarkStore, table: TableConfig, manifest: Manifest, manifests: list[Manifest]
) -> None:
    """The rule reconcile un-commits by: a progressive run is a loser when another run starting from the
    same watermark is on the committed chain. A run ahead of the watermark (the watermark was restored to
    an earlier point) is not refused: the next ingestion rolls the watermark forward through it."""
    if manifest.mode == "backfill":
        return  # backfills are off the chain by design and visible while committed
    mark = get_watermark(store, table.name)
    committed = set(chain(manifests, mark.run_id if mark else None))
    winners = [
        m.run_id
        for m in manifests
        if m.run_id in committed and m.run_id != manifest.run_id and m.from_run_id == manifest.from_run_id
    ]
    if winners:
        raise UsageError(
            f"run {manifest.run_id} of {table.name} is not committed: run {winners[0]} started from the same "
            f"watermark and is on the table's committed chain, so ingestion un-committed {manifest.run_id} "
            "(it lost a race, or was the second of two crashed runs) and restoring it would duplicate rows. "
            "Nothing was restored"
        )


def _exists(lake: LakeStorage, relative: str) -> bool:
    return lake.fs.get_file_info(lake.path(relative)).type == pafs.FileType.File
