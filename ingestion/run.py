"""One ingestion run per table: window -> stream -> validate -> land -> manifest -> conditional advance.

This is the library the CLI (`lakeml ingest`) and the Lambda handler both call. The protocol that makes
landing exactly-once:

1. Read the watermark. Reconcile it with the manifests: a committed run that starts from the current
   watermark (a crash after its manifest, before its advance) is rolled forward instead of extracting an
   overlapping window; a committed sibling that lost a race is un-committed.
2. Capture `high = max(cursor) - lag`; the run id is a function of (table, low, high, mode, from-run).
3. Empty the run's folders, stream the window, validate and write parts (fetch, validation and writing
   overlap through bounded queues, so memory stays bounded and the slowest stage sets the pace).
4. Write the manifest (the commit), then advance the watermark only if it is still the value read in 1.
   The loser of a race gets WatermarkConflict and un-commits its manifest.

For every chunk and for the run: extracted = landed + quarantined, or the run raises.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from ingestion.config import SourcesConfig, TableConfig, load_sources
from ingestion.extract import (
    Stream,
    Window,
    max_cursor,
    schema_doc,
    schema_fingerprint,
    window_count,
)
from ingestion.landing import (
    REASONS,
    PartWriter,
    RunPaths,
    clean_run,
    delete_manifest,
    fault_point,
    quarantine_schema,
    read_manifests,
    write_manifest,
)
from ingestion.retry import transient_retry
from ingestion.watermarks import Watermark, WatermarkConflict, WatermarkStore, watermark_store
from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.lake import LakeStorage
from lakeml.core.settings import Settings
from lakeml.wiring import adapters as _interim_adapters  # TODO(issue 11): ports passed in

ProgressFn = Callable[[str, int, int], None]
DUPLICATE_REASON = "duplicate_primary_key"
QUEUE_DEPTH = 2


class AccountingError(LakemlError):
    """extracted != landed + quarantined: a bug, never a data problem. The run stops uncommitted."""


class DriftError(LakemlError):
    """The source's columns changed and the table's on_drift policy is fail_batch."""


class ContractFailed(LakemlError):
    """Rows broke the contract and the table's on_violation policy is fail_batch."""


class SourceObjectMissing(LakemlError):
    """The table's configured `object` does not exist in Snowflake (or this user cannot read it). For the
    default, the extraction view, that means the views were not built: the message says how."""

    def __init__(self, table: TableConfig, sources: Path) -> None:
        self.table = table.name
        where = f"set {table.name}.object in {sources} to read another object"
        if table.object_schema == "EXTRACT":
            super().__init__(
                f"table {table.name}: {table.object} does not exist in the source (or this user cannot read "
                f"it). It is the table's extraction view, built in Snowflake by dbt "
                f"(dbt_project/models/snowflake/extract_{table.lower}.sql): run `lakeml transform --snowflake` "
                f"to build the views (`lakeml run` builds them before it ingests), or {where}."
            )
        else:
            super().__init__(
                f"table {table.name}: {table.object} does not exist in the source (or this user cannot read "
                f"it); check the name, or {where}."
            )


OBJECT_DOES_NOT_EXIST = 2003  # Snowflake's error code for a missing (or unauthorised) table or view


@contextmanager
def reading(table: TableConfig, sources: Path) -> Iterator[None]:
    """Turn Snowflake's "object does not exist" for the table's object into SourceObjectMissing."""
    try:
        yield
    except Exception as exc:
        from snowflake.connector.errors import ProgrammingError

        if isinstance(exc, ProgrammingError) and exc.errno == OBJECT_DOES_NOT_EXIST:
            raise SourceObjectMissing(table, sources) from exc
        raise


class IngestFailed(LakemlError):
    """At least one table failed; the others' runs are in `report`."""

    def __init__(self, message: str, report: IngestReport) -> None:
        super().__init__(message)
        self.report = report


class RunSummary(BaseModel):
    table: str
    run_id: str | None
    mode: Literal["incremental", "full_refresh", "backfill"]
    status: Literal["landed", "up_to_date", "failed"]
    extracted: int = 0
    landed: int = 0
    quarantined: int = 0
    skipped_at_watermark: int = 0  # rows at the low bound already landed by the previous run
    watermark_from: str | None = None
    watermark_to: str | None = None
    window_low: str | None = None
    window_high: str | None = None
    files: int = 0
    quarantine_files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    drift: str | None = None
    recovered: list[str] = []  # runs committed by a crashed process that this run rolled forward
    error: str | None = None


class IngestReport(BaseModel):
    runs: list[RunSummary]


def ingest(
    settings: Settings,
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
    from ingestion.connection import source_connection

    if full_refresh and until is not None:
        raise UsageError("--full-refresh and --until cannot be combined: a backfill never moves state")
    config = load_sources()
    chosen = [config.table(name) for name in tables] if tables else list(config.tables.values())
    context = _Context(
        config=config,
        lake=_interim_adapters(settings).lake,
        store=watermark_store(settings),
        conn=source_connection(settings),
        progress=progress or (lambda _t, _d, _n: None),
        env=settings.env,
    )
    runs: list[RunSummary] = []
    failures: list[str] = []
    for table in chosen:
        started = time.monotonic()
        try:
            runs.append(_run_table(context, table, full_refresh=full_refresh, until=until))
        except (LakemlError, OSError) as exc:  # OSError: storage failed after retries
            failures.append(f"{table.name}: {exc}")
            mode = "backfill" if until else "full_refresh" if full_refresh else "incremental"
            summary = getattr(exc, "summary", None) or RunSummary(
                table=table.name, run_id=None, mode=mode, status="failed"
            )
            summary.status, summary.error = "failed", str(exc)
            summary.seconds = round(time.monotonic() - started, 3)
            runs.append(summary)
    report = IngestReport(runs=runs)
    if failures:
        raise IngestFailed("; ".join(failures), report)
    return report


@dataclass
class _Context:
    config: SourcesConfig
    lake: LakeStorage
    store: WatermarkStore
    conn: Any
    progress: ProgressFn
    env: str = "local"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@transient_retry
def _get_watermark(store: WatermarkStore, table: str) -> Watermark | None:
    return store.get(table)


def _run_table(
    ctx: _Context, table: TableConfig, *, full_refresh: bool, until: datetime | None
) -> RunSummary:
    started = time.monotonic()
    current = _get_watermark(ctx.store, table.name)
    fault_point("run_start")
    current, recovered = reconcile(ctx.lake, ctx.store, table, current)
    mode: Literal["incremental", "full_refresh", "backfill"] = (
        "backfill" if until is not None else "full_refresh" if full_refresh else "incremental"
    )
    summary = RunSummary(
        table=table.name,
        run_id=None,
        mode=mode,
        status="up_to_date",
        watermark_from=_iso(current.cursor) if current else None,
        watermark_to=_iso(current.cursor) if current else None,
        recovered=recovered,
    )
    with reading(table, ctx.config.path):  # the first query of the object: it may not exist
        top = max_cursor(ctx.conn, table)
    if top is None:  # empty table: nothing to window
        summary.seconds = round(time.monotonic() - started, 3)
        return summary
    high = top - table.lag
    if mode == "backfill":
        assert until is not None
        window = Window(table.name, None, min(until, high), mode)
    elif mode == "full_refresh":
        window = Window(table.name, None, high, mode, current.run_id if current else None)
    else:
        low = current.cursor if current else None
        if low is not None and high <= low:
            summary.seconds = round(time.monotonic() - started, 3)
            return summary
        window = Window(table.name, low, high, mode, current.run_id if current else None)
    try:
        _land(ctx, table, window, current, summary)
    except (LakemlError, OSError) as exc:
        summary.run_id = window.run_id
        setattr(exc, "summary", summary)  # noqa: B010 - carried to ingest() for the report
        raise
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


# --- reconciliation -------------------------------------------------------------------------------------


def chain(manifests: list[dict[str, Any]], head: str | None) -> list[str]:
    """Run ids from the watermark's run back through each run's `from_run_id`: the committed history."""
    by_id = {m["run_id"]: m for m in manifests}
    found: list[str] = []
    while head is not None and head in by_id and head not in found:
        found.append(head)
        head = by_id[head].get("from_run_id")
    return found


def reconcile(
    lake_fs: LakeStorage, store: WatermarkStore, table: TableConfig, current: Watermark | None
) -> tuple[Watermark | None, list[str]]:
    """Repair what a crash or a lost race left behind, before capturing a new window.

    - A committed manifest that starts from the current watermark is a run that crashed after its
      manifest and before its advance: advance the watermark to it (never extract an overlapping window).
    - A committed non-backfill manifest that starts from the same watermark as a run on the committed
      chain, but is not that run, lost a race (or is the second of two crashed candidates): un-commit it.
    """
    recovered: list[str] = []
    while True:
        manifests = read_manifests(lake_fs, table.lower)
        head = current.run_id if current else None
        history = chain(manifests, head)
        progressive = [m for m in manifests if m["mode"] != "backfill"]
        candidates = [m for m in progressive if m.get("from_run_id") == head and m["run_id"] not in history]
        taken = {m["run_id"]: m for m in manifests if m["run_id"] in history}
        if candidates:
            chosen = max(candidates, key=lambda m: (m["window_high"], m["run_id"]))
            new = Watermark.from_json(chosen["new_watermark"])
            _advance(lake_fs, store, table, current, new, chosen["run_id"])
            recovered.append(chosen["run_id"])
            taken[chosen["run_id"]] = chosen
            current = new
        starts = {m.get("from_run_id") for m in taken.values()}
        for m in progressive:
            if m["run_id"] not in taken and m.get("from_run_id") in starts and head is not None:
                delete_manifest(lake_fs, table.lower, m["run_id"])
        if not candidates:
            return current, recovered


def _advance(
    lake_fs: LakeStorage,
    store: WatermarkStore,
    table: TableConfig,
    expected: Watermark | None,
    new: Watermark,
    run_id: str,
) -> None:
    """Conditional advance. A conflict is success when the stored value already has this run in its
    committed chain (another process rolled it forward); otherwise this run lost and is un-committed."""
    try:
        store.advance(table.name, expected, new)
        return
    except WatermarkConflict:
        stored = store.get(table.name)
        if stored == new or run_id in chain(
            read_manifests(lake_fs, table.lower), stored.run_id if stored else None
        ):
            return
        delete_manifest(lake_fs, table.lower, run_id)
        raise WatermarkConflict(
            f"table {table.name}: another ingestion run advanced the watermark first (now "
            f"{stored.cursor.isoformat() if stored else None}, run {stored.run_id if stored else None}); this run "
            f"({run_id}) was not committed. Run `lakeml ingest --table {table.name}` again to continue."
        ) from None


# --- landing one window ---------------------------------------------------------------------------------


@dataclass
class _Validated:
    good: pa.Table
    quarantined: pa.Table
    extracted: int


@dataclass
class _Validator:
    """Per-chunk checks, in order: drop rows already landed at the low bound, set aside extra copies of
    a (key, cursor) pair, then the per-row contract. Keeps the cross-chunk state the set checks need."""

    table: TableConfig
    schema: pa.Schema
    window: Window
    keys_at_low: frozenset[str]
    now: datetime
    contract: Any  # ingestion.schema.Table (raw table or extraction view) when contracts are on
    drift_reason: str | None = None
    # on_drift quarantine_rows with only retyped columns: cast them back and land what casts, in this schema
    cast_to: pa.Schema | None = None
    skipped: int = 0
    extracted: int = 0
    landed: int = 0
    quarantined: int = 0
    keys_at_high: set[str] = field(default_factory=set)
    min_cursor: datetime | None = None
    max_cursor: datetime | None = None
    batches: list[list[int]] = field(default_factory=list)
    _last: tuple[Any, Any] | None = None

    def __call__(self, chunk: pa.Table) -> _Validated:
        cursor = chunk.column(self.table.cursor)
        key_text = pc.cast(chunk.column(self.table.primary_key), pa.string())
        if self.window.low is not None and self.keys_at_low:
            seen = pc.and_(
                pc.equal(cursor, pa.scalar(self.window.low, cursor.type)),
                pc.is_in(key_text, value_set=pa.array(sorted(self.keys_at_low), pa.string())),
            ).fill_null(False)
            already = pc.sum(seen).as_py() or 0
            if already:
                self.skipped += already
                keep = pc.invert(seen)
                chunk, cursor, key_text = chunk.filter(keep), cursor.filter(keep), key_text.filter(keep)
        extracted = chunk.num_rows
        if extracted:
            self._track(chunk, cursor, key_text)
        if self.drift_reason is not None and self.cast_to is None:
            good = chunk.slice(0, 0)
            bad = _with_reasons(chunk, [self.drift_reason]).cast(quarantine_schema(self.schema))
        else:
            uncast = None
            if self.cast_to is not None:
                from ingestion.contracts import cast_to_contract

                chunk, uncast = cast_to_contract(self.contract, chunk)
            duplicate = self._duplicates(chunk)
            copies = chunk.filter(duplicate)
            rest = chunk.filter(pc.invert(duplicate))
            good, bad = self._contract(rest)
            parts = [bad]
            if copies.num_rows:
                parts.insert(0, _with_reasons(copies, [DUPLICATE_REASON]))
            if uncast is not None and uncast.num_rows:
                parts.insert(0, uncast)
            # quarantine keeps the source's own types (a retyped value may not fit the old type)
            bad = pa.concat_tables([p.cast(quarantine_schema(self.schema)) for p in parts])
        if good.num_rows + bad.num_rows != extracted:
            raise AccountingError(
                f"table {self.table.name} run {self.window.run_id}: chunk extracted {extracted} rows but "
                f"landed {good.num_rows} + quarantined {bad.num_rows}; the run was stopped uncommitted"
            )
        self.extracted += extracted
        self.landed += good.num_rows
        self.quarantined += bad.num_rows
        self.batches.append([extracted, good.num_rows, bad.num_rows])
        return _Validated(good, bad, extracted)

    def _track(self, chunk: pa.Table, cursor: pa.ChunkedArray, key_text: pa.ChunkedArray) -> None:
        bounds = pc.min_max(cursor)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is not None and (self.min_cursor is None or low < self.min_cursor):
            self.min_cursor = low
        if high is not None and (self.max_cursor is None or high > self.max_cursor):
            self.max_cursor = high
        at_high = pc.equal(cursor, pa.scalar(self.window.high, cursor.type)).fill_null(False)
        if pc.any(at_high).as_py():
            self.keys_at_high.update(k for k in key_text.filter(at_high).to_pylist() if k is not None)

    def _duplicates(self, chunk: pa.Table) -> pa.Array:
        """True for the 2nd, 3rd… copy of a (key, cursor) pair. The stream is ordered by (cursor, key),
        so copies are adjacent; the last row of the previous chunk is carried to catch split pairs."""
        if chunk.num_rows == 0:
            return pa.array([], pa.bool_())
        keys = chunk.column(self.table.primary_key).combine_chunks()
        cursors = chunk.column(self.table.cursor).combine_chunks()
        if self._last is not None:
            prev_keys = pa.concat_arrays([pa.array([self._last[0]], keys.type), keys.slice(0, len(keys) - 1)])
            prev_cur = pa.concat_arrays(
                [pa.array([self._last[1]], cursors.type), cursors.slice(0, len(cursors) - 1)]
            )
        else:
            prev_keys = pa.concat_arrays([pa.nulls(1, keys.type), keys.slice(0, len(keys) - 1)])
            prev_cur = pa.concat_arrays([pa.nulls(1, cursors.type), cursors.slice(0, len(cursors) - 1)])
        self._last = (keys[-1].as_py(), cursors[-1].as_py())
        same = pc.and_(pc.equal(keys, prev_keys), pc.equal(cursors, prev_cur))
        return same.fill_null(False)

    def _contract(self, rows: pa.Table) -> tuple[pa.Table, pa.Table]:
        from ingestion.contracts import check_batch

        landed = self.cast_to or self.schema
        if self.contract is None:
            return rows.cast(landed), _with_reasons(rows.slice(0, 0), [])
        result = check_batch(self.contract, rows, now=self.now)
        return result.good.select(landed.names).cast(landed), result.quarantined


def _with_reasons(rows: pa.Table, reasons: list[str]) -> pa.Table:
    column = pa.array([reasons] * rows.num_rows, pa.list_(pa.string()))
    return rows.append_column(REASONS, column)


def _land(
    ctx: _Context, table: TableConfig, window: Window, current: Watermark | None, summary: RunSummary
) -> None:
    if table.mode == "unload":
        from ingestion.unload import land_unload

        land_unload(ctx, table, window, current, summary)
        return
    paths = RunPaths(table.lower, window.ingest_date, window.run_id)
    summary.run_id = window.run_id
    summary.window_low, summary.window_high = _iso(window.low), _iso(window.high)
    manifests = read_manifests(ctx.lake, table.lower)
    if window.mode == "backfill":  # a repeated backfill replaces its earlier self: un-commit, then rewrite
        delete_manifest(ctx.lake, table.lower, window.run_id)
    elif any(m["run_id"] == window.run_id for m in manifests):
        raise LakemlError(f"run {window.run_id} of {table.name} is already committed; nothing to re-run")
    clean_run(ctx.lake, paths)
    fault_point("cleaned")

    total = window_count(ctx.conn, table, window.low, window.high)
    stream = Stream(ctx.conn, table, window)
    schema = stream.schema
    head = next((m for m in manifests if current and m["run_id"] == current.run_id), None)
    expected = _schema_of(head) if head else None
    drift = _drift(expected, schema)
    drift_text = None if drift is None or drift.empty else drift.describe()
    drift_reason = None
    cast_to = None
    if drift_text and window.mode != "full_refresh":
        drift_reason = f"schema_drift: {drift_text}"
        only_retyped = drift.retyped and not drift.added and not drift.missing
        if table.on_drift == "quarantine_rows" and only_retyped and table.contract and expected is not None:
            cast_to = expected
    validator = _Validator(
        table=table,
        schema=schema,
        window=window,
        keys_at_low=frozenset(current.keys_at_cursor) if current and window.low is not None else frozenset(),
        now=datetime.now(UTC).replace(tzinfo=None),
        contract=table.contract_table,
        drift_reason=drift_reason,
        cast_to=cast_to,
    )
    bronze = PartWriter(ctx.lake, paths.bronze_dir, cast_to or schema, table, boundary="part")
    rejected = PartWriter(ctx.lake, paths.quarantine_dir, quarantine_schema(schema), table, "quarantine_part")
    task = f"ingest {table.name}"
    ctx.progress(task, 0, total)
    violation: list[str] = []

    def write(item: _Validated) -> None:
        if item.quarantined.num_rows and table.on_violation == "fail_batch" and drift_reason is None:
            # the whole batch goes to quarantine and the run stops before its manifest
            good = _with_reasons(item.good, ["batch_rejected_by_fail_batch_policy"]).cast(rejected.schema)
            rejected.write(pa.concat_tables([item.quarantined, good]))
            rejected.close()
            violation.append(_reason_counts(item.quarantined))
            raise _Stop()
        if item.good.num_rows:
            bronze.write(item.good)
        if item.quarantined.num_rows:
            rejected.write(item.quarantined)
        ctx.progress(task, validator.extracted + validator.skipped, max(total, validator.extracted))

    try:
        _pipeline(stream.chunks(), validator, write)
    except _Stop:
        summary.extracted, summary.landed = validator.extracted, 0
        summary.quarantined = validator.extracted
        raise ContractFailed(
            f"table {table.name}: rows broke the contract ({violation[0]}) and on_violation is fail_batch; "
            f"the batch is in {paths.quarantine_dir}/ and nothing was committed. Fix the source, or set "
            f"{table.name}.on_violation: quarantine_rows in ingestion/sources.yml to land the good rows."
        ) from None
    files = bronze.close()
    quarantine_files = rejected.close()
    fault_point("before_manifest")
    _check_accounting(table, window, validator, files, quarantine_files)
    summary.extracted, summary.landed, summary.quarantined = (
        validator.extracted,
        validator.landed,
        validator.quarantined,
    )
    summary.skipped_at_watermark = validator.skipped
    summary.files, summary.quarantine_files = len(files), len(quarantine_files)
    summary.bytes = sum(f.bytes for f in files) + sum(f.bytes for f in quarantine_files)
    summary.drift = drift_text
    ctx.progress(task, total, total)

    if drift_reason is not None and table.on_drift == "fail_batch":
        raise DriftError(
            f"table {table.name}: the source's columns changed since run {head['run_id'] if head else '?'}: "
            f"{drift_text}. Policy fail_batch stopped the run; its {validator.extracted} rows are in "
            f"{paths.quarantine_dir}/ and nothing was committed. Fix the source, or set "
            f"{table.name}.on_drift: quarantine_rows in ingestion/sources.yml to set drifted rows aside and "
            f"continue, or run `lakeml ingest --table {table.name} --full-refresh` to accept the new columns."
        )
    new = Watermark(
        cursor=window.high if window.mode != "backfill" else (current.cursor if current else window.high),
        keys_at_cursor=tuple(sorted(validator.keys_at_high)),
        run_id=window.run_id,
    )
    effective = [m["run_id"] for m in manifests if m["run_id"] not in _superseded(manifests)]
    manifest = {
        "table": table.name,
        "run_id": window.run_id,
        "ingest_date": window.ingest_date,
        "window_low": _iso(window.low),
        "window_high": _iso(window.high),
        "mode": window.mode,
        "fetch_mode": table.mode,
        "from_run_id": window.from_run_id,
        "extracted": validator.extracted,
        "landed": validator.landed,
        "quarantined": validator.quarantined,
        "skipped_at_watermark": validator.skipped,
        "batches": validator.batches,
        "min_cursor": _iso(validator.min_cursor),
        "max_cursor": _iso(validator.max_cursor),
        # bronze keeps its schema through a quarantined drift, so the next run still sees the drift
        "schema_fingerprint": schema_fingerprint(expected if drift_reason and expected else schema),
        "schema": schema_doc(expected if drift_reason and expected else schema),
        "source_schema": schema_doc(schema),
        "files": [f.to_json() for f in files],
        "quarantine_files": [f.to_json() for f in quarantine_files],
        "drift": drift_text,
        "supersedes": effective if window.mode == "full_refresh" else [],
        "new_watermark": new.to_json(),
        "committed_at": datetime.now(UTC).isoformat(),
    }
    write_manifest(ctx.lake, table.lower, manifest)
    if window.mode != "backfill":
        _advance(ctx.lake, ctx.store, table, current, new, window.run_id)
        summary.watermark_to = _iso(new.cursor)
    fault_point("advanced")
    summary.status = "landed"


class _Stop(Exception):
    """Internal: the writer stopped the pipeline on purpose (fail_batch)."""


def _reason_counts(quarantined: pa.Table) -> str:
    reasons = pc.list_flatten(quarantined.column(REASONS))
    counts = pc.value_counts(reasons).to_pylist()
    return ", ".join(f"{c['values']}: {c['counts']}" for c in sorted(counts, key=lambda c: -c["counts"]))


def _superseded(manifests: list[dict[str, Any]]) -> set[str]:
    return {run for m in manifests for run in m.get("supersedes", [])}


def _schema_of(manifest: dict[str, Any]) -> pa.Schema:
    from ingestion.verify import parse_type

    return pa.schema([pa.field(c["name"], parse_type(c["type"])) for c in manifest["schema"]])


def _drift(expected: pa.Schema | None, actual: pa.Schema) -> Any:
    if expected is None:
        return None
    from ingestion.contracts import schema_drift

    return schema_drift(expected, actual)


def _check_accounting(
    table: TableConfig, window: Window, validator: _Validator, files: list[Any], quarantine_files: list[Any]
) -> None:
    in_files = sum(f.rows for f in files)
    in_quarantine = sum(f.rows for f in quarantine_files)
    if (
        validator.extracted != validator.landed + validator.quarantined
        or in_files != validator.landed
        or in_quarantine != validator.quarantined
    ):
        raise AccountingError(
            f"table {table.name} run {window.run_id}: extracted {validator.extracted}, landed "
            f"{validator.landed} ({in_files} in parts), quarantined {validator.quarantined} ({in_quarantine} "
            "in parts); the run was stopped before its manifest"
        )


# --- three stages, overlapped ---------------------------------------------------------------------------

_DONE = object()


def _pipeline(
    chunks: Iterable[pa.Table],
    validate: Callable[[pa.Table], _Validated],
    write: Callable[[_Validated], None],
) -> None:
    """Fetch (this thread) -> validate (thread) -> write (thread) through bounded queues.

    Arrow compute, Parquet encoding and the connector's network reads release the GIL, so the stages
    run in parallel; the queues (depth 2) bound memory to a few chunks. The first error in any stage
    stops the others and is re-raised here.
    """
    to_validate: queue.Queue[Any] = queue.Queue(QUEUE_DEPTH)
    to_write: queue.Queue[Any] = queue.Queue(QUEUE_DEPTH)
    failed = threading.Event()
    errors: list[BaseException] = []

    def put(q: queue.Queue[Any], item: Any) -> bool:
        while not failed.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def items(q: queue.Queue[Any]) -> Iterator[Any]:
        while not failed.is_set():
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _DONE:
                return
            yield item

    def stage(source: queue.Queue[Any], fn: Callable[[Any], Any], sink: queue.Queue[Any] | None) -> None:
        try:
            for item in items(source):
                out = fn(item)
                if sink is not None and not put(sink, out):
                    return
            if sink is not None:
                put(sink, _DONE)
        except BaseException as exc:
            errors.append(exc)
            failed.set()

    workers = [
        threading.Thread(
            target=stage, args=(to_validate, validate, to_write), name="ingest-validate", daemon=True
        ),
        threading.Thread(target=stage, args=(to_write, write, None), name="ingest-write", daemon=True),
    ]
    for worker in workers:
        worker.start()
    try:
        for chunk in chunks:
            if not put(to_validate, chunk):
                break
        else:
            put(to_validate, _DONE)
    except BaseException as exc:
        errors.append(exc)
        failed.set()
    finally:
        for worker in workers:
            worker.join()
        close = getattr(chunks, "close", None)
        if close is not None:  # a stopped stream releases its cursor now, not at garbage collection
            close()
    if errors:
        raise errors[0]
