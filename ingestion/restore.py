"""Disaster recovery of a deleted bronze run: bring its manifest and parts back from the lake's history.

A run is its manifest plus the parts it lists (`ingestion.manifest`). Deleting them (a wrong `aws s3 rm`,
a bad lifecycle rule) leaves delete markers in the versioned lake bucket; `restore_runs` copies the newest
earlier version of each deleted file back, checking every part against the sha256 its manifest recorded
(the parts first, the manifest last: it is what commits the run), then republishes the table's visibility
index so dbt and `lakeml ingest verify` see the runs again.

It never brings back a run ingestion itself un-committed: when another run that started from the same
watermark is on the committed chain (the one reconcile keeps), the deleted run lost a race or was the
second of two crashed candidates, and restoring it would duplicate rows. The chain is computed over the
live *and* the deleted manifests, so it holds when a whole table's manifests were deleted too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import pyarrow.fs as pafs
from pydantic import BaseModel

from ingestion.commit import chain, get_watermark
from ingestion.config import TableConfig
from ingestion.manifest import Manifest, manifest_dir, read_manifests
from ingestion.visibility import publish_visibility
from ingestion.watermarks.port import WatermarkStore
from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.lake import BRONZE, QUARANTINE, DeletedObject, LakeHistory, LakeStorage


class RestorePorts(Protocol):
    """The ports a restore uses: the lake, its history, and the watermarks (for the committed chain)."""

    @property
    def lake(self) -> LakeStorage: ...

    @property
    def lake_history(self) -> LakeHistory: ...

    @property
    def watermarks(self) -> WatermarkStore: ...


class RestoredRun(BaseModel):
    """What the restore did (or, with `dry_run`, would do) for one run."""

    table: str
    run_id: str
    ingest_date: str
    mode: str
    manifest: Literal["present", "restored"]
    restored: list[str]  # lake paths brought back (the manifest first when it was deleted)
    present: int  # files of the run that were never deleted
    dry_run: bool


class SkippedRun(BaseModel):
    """A deleted run the restore of a whole table left alone, and why."""

    run_id: str
    reason: str


class RestoreReport(BaseModel):
    table: str
    runs: list[RestoredRun]
    skipped: list[SkippedRun]


def committed_runs(manifests: Sequence[Manifest], head: str | None) -> set[str]:
    """The runs reconcile keeps committed over `manifests`: the watermark's chain, then the roll-forward
    it does from there (each step the candidate starting at the current run with the highest
    `(window_high, run_id)`), so a watermark restored to an earlier point counts the runs after it."""
    runs = set(chain(manifests, head))
    current = head
    while True:
        candidates = [
            m for m in manifests if m.mode != "backfill" and m.from_run_id == current and m.run_id not in runs
        ]
        if not candidates:
            return runs
        chosen = max(candidates, key=lambda m: (m.window_high, m.run_id))
        runs.add(chosen.run_id)
        current = chosen.run_id


def winner_over(manifest: Manifest, manifests: Sequence[Manifest], committed: set[str]) -> str | None:
    """The committed run that made ingestion un-commit `manifest` (same starting watermark), if any."""
    if manifest.mode == "backfill" or manifest.run_id in committed:
        return None
    return next(
        (
            m.run_id
            for m in manifests
            if m.run_id in committed and m.run_id != manifest.run_id and m.from_run_id == manifest.from_run_id
        ),
        None,
    )


@dataclass
class TableRuns:
    """A table's runs as the lake holds them: live manifests, deleted ones (with the version a restore
    brings back), the committed set over both, and the files present under its folders."""

    live: dict[str, Manifest]
    deleted: dict[str, tuple[DeletedObject, Manifest]]
    committed: set[str]
    present: set[str]  # paths of `lake.fs`

    @classmethod
    def load(cls, ports: RestorePorts, table: TableConfig) -> TableRuns:
        lake, history = ports.lake, ports.lake_history
        live = {m.run_id: m for m in read_manifests(lake, table.lower)}
        deleted = {}
        for obj in history.deleted_under(manifest_dir(table.lower) + "/"):
            name = obj.path.rsplit("/", 1)[1]
            if name.endswith(".json") and not name.startswith("."):  # `.tmp-*`: moved into place, not runs
                deleted[name.removesuffix(".json")] = (obj, Manifest.model_validate_json(history.read(obj)))
        everything = [*live.values(), *(manifest for _, manifest in deleted.values())]
        mark = get_watermark(ports.watermarks, table.name)
        present: set[str] = set()
        for folder in (f"{BRONZE}/{table.lower}", f"{QUARANTINE}/{table.lower}"):
            selector = pafs.FileSelector(lake.path(folder), recursive=True, allow_not_found=True)
            present.update(i.path for i in lake.fs.get_file_info(selector) if i.type == pafs.FileType.File)
        return cls(live, deleted, committed_runs(everything, mark.run_id if mark else None), present)

    @property
    def manifests(self) -> list[Manifest]:
        return [*self.live.values(), *(manifest for _, manifest in self.deleted.values())]

    def damaged(self, lake: LakeStorage) -> list[str]:
        """Runs with a deleted manifest or a missing part, oldest window first."""
        broken = set(self.deleted) | {
            run_id
            for run_id, m in self.live.items()
            if any(lake.path(f.path) not in self.present for f in [*m.files, *m.quarantine_files])
        }
        by_run = {m.run_id: m for m in self.manifests}
        return sorted(broken, key=lambda run_id: (by_run[run_id].window_high, run_id))


def restore_runs(
    ports: RestorePorts, table: TableConfig, run_ids: list[str] | None = None, *, dry_run: bool = False
) -> RestoreReport:
    """Bring back `run_ids` of `table`, or with None every run of it that has a deleted file (runs
    ingestion un-committed are then skipped, and named; asked for by id, they are refused)."""
    lake = ports.lake
    runs = TableRuns.load(ports, table)
    restored: list[RestoredRun] = []
    skipped: list[SkippedRun] = []
    try:
        for run_id in run_ids if run_ids is not None else runs.damaged(lake):
            manifest, deleted_manifest = _manifest(runs, table, run_id)
            winner = winner_over(manifest, runs.manifests, runs.committed)
            if winner is not None:
                reason = (
                    f"run {winner} started from the same watermark and is on the table's committed chain, so "
                    f"ingestion un-committed {run_id} (it lost a race, or was the second of two crashed runs); "
                    "restoring it would duplicate rows"
                )
                if run_ids is not None:
                    raise UsageError(
                        f"run {run_id} of {table.name} is not committed: {reason}. It was not restored"
                    )
                skipped.append(SkippedRun(run_id=run_id, reason=reason))
                continue
            restored.append(_restore_one(ports, runs, table, manifest, deleted_manifest, dry_run))
    finally:  # the runs restored before a failure are readable at once
        if restored and not dry_run:
            publish_visibility(lake, [table.name])
    return RestoreReport(table=table.name, runs=restored, skipped=skipped)


def _manifest(runs: TableRuns, table: TableConfig, run_id: str) -> tuple[Manifest, DeletedObject | None]:
    if run_id in runs.live:
        return runs.live[run_id], None
    if run_id in runs.deleted:
        obj, manifest = runs.deleted[run_id]
        return manifest, obj
    raise UsageError(
        f"table {table.name} has no run {run_id!r}, live or deleted (no earlier version of "
        f"{manifest_dir(table.lower)}/{run_id}.json in the lake); `lakeml ingest verify --table {table.name}` "
        "lists the committed windows. If it was deleted longer ago than the bucket keeps old versions, "
        f"re-ingest the window (`lakeml ingest --table {table.name} --until <its window_high>`)"
    )


def _restore_one(
    ports: RestorePorts,
    runs: TableRuns,
    table: TableConfig,
    manifest: Manifest,
    deleted_manifest: DeletedObject | None,
    dry_run: bool,
) -> RestoredRun:
    lake, history = ports.lake, ports.lake_history
    parts = [*manifest.files, *manifest.quarantine_files]
    missing = [record for record in parts if lake.path(record.path) not in runs.present]
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
                f"the newest earlier version of {record.path} ({obj.version_id}) does not match run "
                f"{manifest.run_id}'s manifest (sha256 {digest[:12]}… != {record.sha256[:12]}…); that run was "
                "not restored. Inspect the object's versions (`aws s3api list-object-versions`) or re-ingest "
                "the window"
            )
        found.append(obj)
    if lost:
        raise LakemlError(
            f"{len(lost)} file(s) of run {manifest.run_id} of {table.name} are gone with no earlier version kept "
            f"(first: {lost[0]}); that run was not restored. Re-ingest the window instead: "
            f"`lakeml ingest --table {table.name} --until {manifest.window_high.isoformat()}` (a backfill run)"
        )
    restoring = found + ([deleted_manifest] if deleted_manifest else [])  # the manifest last: it commits
    if not dry_run:
        for obj in restoring:
            history.restore(obj)
    return RestoredRun(
        table=table.name,
        run_id=manifest.run_id,
        ingest_date=manifest.ingest_date,
        mode=manifest.mode,
        manifest="restored" if deleted_manifest else "present",
        restored=[obj.path for obj in restoring],
        present=len(parts) - len(missing) + (0 if deleted_manifest else 1),
        dry_run=dry_run,
    )
