"""One ingestion run per table: window -> stream -> validate -> land -> manifest -> conditional advance.

This is the library the CLI (`lakeml ingest`) and the Lambda handler both call, with the ports the app
layer wired (`IngestPorts`). The protocol that makes landing exactly-once:

1. Read the watermark and reconcile it with the manifests (`ingestion.commit.reconcile`): a run that
   crashed after its manifest is rolled forward, a sibling that lost a race is un-committed. The table's
   visibility index is re-published (`ingestion.visibility`), healing a crash between commit and index.
2. Capture `high = max(cursor) - lag`; the run id is a function of (table, low, high, mode, from-run).
3. Land the window: `ingestion.fetch` (through this process) or `ingestion.unload` (COPY INTO @stage).
4. Commit (`ingestion.commit.commit`): the manifest, then the watermark advance only if it is still the
   value read in 1 (the loser of a race gets WatermarkConflict and un-commits), then the index.
"""

from __future__ import annotations

import time
from datetime import datetime

from ingestion.commit import get_watermark, reconcile
from ingestion.config import TableConfig, load_sources, sources_path
from ingestion.context import IngestPorts, ProgressFn, RunContext, no_progress
from ingestion.extract import Mode, Window, max_cursor
from ingestion.faults import Faults
from ingestion.fetch import land_fetch
from ingestion.report import IngestFailed, IngestReport, RunSummary, iso
from ingestion.source.port import reading_object
from ingestion.unload import land_unload
from ingestion.visibility import publish_visibility
from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.settings import Settings


def ingest(
    settings: Settings,
    ports: IngestPorts,
    tables: list[str] | None = None,
    *,
    full_refresh: bool = False,
    until: datetime | None = None,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Extract new and changed rows of each table (all configured tables by default) into bronze.

    `full_refresh` re-extracts everything up to now and supersedes the table's earlier runs; `until`
    backfills `(-inf, until]` as an extra committed run without moving the watermark. Tables run one after
    the other; a failing table does not stop the others, and IngestFailed names every failure at the end.
    """
    if full_refresh and until is not None:
        raise UsageError("--full-refresh and --until cannot be combined: a backfill never moves state")
    config = load_sources(sources_path(settings))
    chosen = [config.table(name) for name in tables] if tables else list(config.tables.values())
    context = RunContext(
        config=config,
        lake=ports.lake,
        watermarks=ports.watermarks,
        source=ports.source,
        progress=progress or no_progress,
        faults=Faults(settings.ingest.fault_at),
    )
    ports.source.connection()  # credentials and connectivity fail the whole call, before any table
    mode: Mode = "backfill" if until else "full_refresh" if full_refresh else "incremental"
    runs: list[RunSummary] = []
    failures: list[str] = []
    for table in chosen:
        started = time.monotonic()
        summary = RunSummary(table=table.name, run_id=None, mode=mode, status="up_to_date")
        try:
            run_table(context, table, summary, until=until)
        except (LakemlError, OSError) as exc:  # OSError: storage failed after retries
            failures.append(f"{table.name}: {exc}")
            summary.status, summary.error = "failed", str(exc)
        summary.seconds = round(time.monotonic() - started, 3)
        runs.append(summary)
    report = IngestReport(runs=runs)
    if failures:
        raise IngestFailed("; ".join(failures), report)
    return report


def run_table(ctx: RunContext, table: TableConfig, summary: RunSummary, *, until: datetime | None) -> None:
    """One table: reconcile, capture the window, land and commit it; `summary` says what happened."""
    current = get_watermark(ctx.watermarks, table.name)
    ctx.faults.point("run_start")
    current, summary.recovered = reconcile(ctx.lake, ctx.watermarks, table, current)
    publish_visibility(ctx.lake, [table.name])
    summary.watermark_from = summary.watermark_to = iso(current.cursor) if current else None
    with reading_object(table, ctx.config.path):  # the first query of the object: it may not exist
        top = max_cursor(ctx.conn, table)
    if top is None:  # empty table: nothing to window
        return
    high = top - table.lag
    from_run = current.run_id if current else None
    if summary.mode == "backfill":
        assert until is not None
        window = Window(table.name, None, min(until, high), "backfill")
    elif summary.mode == "full_refresh":
        window = Window(table.name, None, high, "full_refresh", from_run)
    else:
        low = current.cursor if current else None
        if low is not None and high <= low:
            return
        window = Window(table.name, low, high, "incremental", from_run)
    summary.run_id = window.run_id
    land = land_unload if table.mode == "unload" else land_fetch
    land(ctx, table, window, current, summary)
