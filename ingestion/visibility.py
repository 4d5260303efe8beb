"""Which committed runs a reader sees: one rule, and the per-table index dbt reads it from.

The rule (`visible_runs`): a run is visible when its manifest exists (it is committed) and no other
committed manifest lists it in `supersedes` (a full refresh replaces every run visible when it started).
Backfill runs are visible like any other. `lakeml ingest verify` counts with this function, a full
refresh computes its `supersedes` with it, and ingestion writes its result for dbt:

    bronze/_visible/<table>.json    one JSON line per visible run: table, run_id, ingest_date, mode,
                                    committed_at, schema_fingerprint, landed (rows in its parts)

dbt's bronze relations (dbt_project/macros/register_bronze.sql) join the parts to this index, so dbt
shows exactly the runs verify counts. The index is rewritten atomically (temporary name, then a move)
after every change of a table's manifests: at the start of each table's ingestion run (after reconcile,
which heals a crash between a commit and its index) and after each commit. Because a crash or a
concurrent writer can still leave it one commit behind, `publish_visibility` is also called right before
dbt reads bronze (`lakeml transform`), which makes dbt's view consistent with the manifests at that time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyarrow.fs as pafs
from pydantic import BaseModel

from ingestion.extract import Mode
from ingestion.manifest import Manifest, committed_tables, put_atomically, read_manifests
from ingestion.retry import transient_retry
from lakeml.core.lake import BRONZE, LakeStorage

VISIBLE = "_visible"


class VisibleRun(BaseModel):
    """One line of the visibility index."""

    table: str
    run_id: str
    ingest_date: str
    mode: Mode
    committed_at: str
    schema_fingerprint: str | None
    landed: int = 0  # rows in the run's bronze parts: dbt's gate compares the relation's count with it


def superseded(manifests: Sequence[Manifest]) -> set[str]:
    """Run ids some committed full refresh replaced."""
    return {run for m in manifests for run in m.supersedes}


def visible_runs(manifests: Sequence[Manifest]) -> list[Manifest]:
    """THE visibility rule: committed runs (these manifests) not superseded by a committed full refresh."""
    replaced = superseded(manifests)
    return [m for m in manifests if m.run_id not in replaced]


def index_path(table_lower: str) -> str:
    return f"{BRONZE}/{VISIBLE}/{table_lower}.json"


def index_lines(manifests: Sequence[Manifest]) -> bytes:
    """The index file's content for a table's manifests (empty when no run is visible)."""
    runs = [
        VisibleRun(
            table=m.table,
            run_id=m.run_id,
            ingest_date=m.ingest_date,
            mode=m.mode,
            committed_at=m.committed_at.isoformat(),
            schema_fingerprint=m.schema_fingerprint,
            landed=sum(f.rows for f in m.files),
        )
        for m in visible_runs(manifests)
    ]
    return b"".join(run.model_dump_json().encode() + b"\n" for run in runs)


@transient_retry
def publish_visibility(lake: LakeStorage, tables: Iterable[str] | None = None) -> None:
    """Rewrite the visibility index of `tables` (names in any case) from their manifests now.

    `None` means every table that has manifests or an index, so a caller that does not know the sources
    file (the transform step) can make the whole of bronze consistent before dbt reads it."""
    names = {t.lower() for t in tables} if tables is not None else _known_tables(lake)
    for table in sorted(names):
        put_atomically(lake, index_path(table), index_lines(read_manifests(lake, table)))


@transient_retry
def read_visibility(lake: LakeStorage, table_lower: str) -> list[VisibleRun]:
    """The index as last published (empty if never published)."""
    path = lake.path(index_path(table_lower))
    if lake.fs.get_file_info(path).type != pafs.FileType.File:
        return []
    with lake.fs.open_input_stream(path) as handle:
        text = handle.read().decode()
    return [VisibleRun.model_validate_json(line) for line in text.splitlines() if line.strip()]


def _known_tables(lake: LakeStorage) -> set[str]:
    selector = pafs.FileSelector(lake.path(BRONZE, VISIBLE), allow_not_found=True)
    indexed = {
        i.base_name.removesuffix(".json")
        for i in lake.fs.get_file_info(selector)
        if i.type == pafs.FileType.File and i.base_name.endswith(".json") and not i.base_name.startswith(".")
    }
    return indexed | set(committed_tables(lake))


def supersedes(mode: Mode, manifests: Sequence[Manifest]) -> list[str]:
    """What a new run of `mode` replaces: for a full refresh, every run visible when it started."""
    return [m.run_id for m in visible_runs(manifests)] if mode == "full_refresh" else []
