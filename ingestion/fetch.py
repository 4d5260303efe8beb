"""`mode: fetch`: land one window by streaming it through this process (connector -> Arrow -> Parquet).

The window's rows are read in chunks (`ingestion.extract.Stream`), validated (`ingestion.validate`) and
written as parts (`ingestion.landing`), the three overlapped (`ingestion.pipeline`); then the run is
checked (extracted = landed + quarantined), its manifest built and committed (`ingestion.commit`). Schema
drift against the table's current run is handled here, by the table's `on_drift` policy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from ingestion.commit import commit
from ingestion.config import TableConfig
from ingestion.context import RunContext
from ingestion.extract import Stream, Window, schema_fingerprint, window_count
from ingestion.landing import PartWriter, RunPaths, clean_run, quarantine_schema
from ingestion.manifest import Manifest, column_docs, delete_manifest, read_manifests
from ingestion.pipeline import run_pipeline
from ingestion.report import RunSummary, iso
from ingestion.validate import Validated, Validator, check_accounting, reason_counts, with_reasons
from ingestion.visibility import supersedes
from ingestion.watermarks.port import Watermark
from lakeml.core.errors import LakemlError

FAIL_BATCH_REASON = "batch_rejected_by_fail_batch_policy"


class DriftError(LakemlError):
    """The source's columns changed and the table's on_drift policy is fail_batch."""


class ContractFailed(LakemlError):
    """Rows broke the contract and the table's on_violation policy is fail_batch."""


class _Stop(Exception):
    """The writer stopped the pipeline on purpose (fail_batch)."""


def land_fetch(
    ctx: RunContext, table: TableConfig, window: Window, current: Watermark | None, summary: RunSummary
) -> None:
    """Land and commit `window` of `table`, starting from watermark `current`; fills `summary`."""
    paths = RunPaths(table.lower, window.ingest_date, window.run_id)
    summary.run_id = window.run_id
    summary.window_low, summary.window_high = iso(window.low), iso(window.high)
    manifests = read_manifests(ctx.lake, table.lower)
    if window.mode == "backfill":  # a repeated backfill replaces its earlier self: un-commit, then rewrite
        delete_manifest(ctx.lake, table.lower, window.run_id)
    elif any(m.run_id == window.run_id for m in manifests):
        raise LakemlError(f"run {window.run_id} of {table.name} is already committed; nothing to re-run")
    clean_run(ctx.lake, paths)
    ctx.faults.point("cleaned")

    conn = ctx.conn
    total = window_count(conn, table, window.low, window.high)
    stream = Stream(conn, table, window)
    schema = stream.schema
    head = next((m for m in manifests if current and m.run_id == current.run_id), None)
    expected = head.arrow_schema() if head else None
    drift = _drift(expected, schema)
    drift_text = None if drift is None or drift.empty else drift.describe()
    drift_reason = None
    cast_to = None
    if drift_text and window.mode != "full_refresh":
        drift_reason = f"schema_drift: {drift_text}"
        only_retyped = drift.retyped and not drift.added and not drift.missing
        if table.on_drift == "quarantine_rows" and only_retyped and table.contract and expected is not None:
            cast_to = expected
    validator = Validator(
        table=table,
        schema=schema,
        window=window,
        keys_at_low=frozenset(current.keys_at_cursor) if current and window.low is not None else frozenset(),
        now=datetime.now(UTC).replace(tzinfo=None),
        contract=table.contract_table,
        drift_reason=drift_reason,
        cast_to=cast_to,
    )
    bronze = PartWriter(ctx.lake, paths.bronze_dir, cast_to or schema, table, "part", ctx.faults)
    rejected = PartWriter(
        ctx.lake, paths.quarantine_dir, quarantine_schema(schema), table, "quarantine_part", ctx.faults
    )
    task = f"ingest {table.name}"
    ctx.progress(task, 0, total)
    violation: list[str] = []

    def write(item: Validated) -> None:
        if item.quarantined.num_rows and table.on_violation == "fail_batch" and drift_reason is None:
            # the whole batch goes to quarantine and the run stops before its manifest
            good = with_reasons(item.good, [FAIL_BATCH_REASON]).cast(rejected.schema)
            rejected.write(pa.concat_tables([item.quarantined, good]))
            rejected.close()
            violation.append(reason_counts(item.quarantined))
            raise _Stop()
        if item.good.num_rows:
            bronze.write(item.good)
        if item.quarantined.num_rows:
            rejected.write(item.quarantined)
        ctx.progress(task, validator.extracted + validator.skipped, max(total, validator.extracted))

    try:
        run_pipeline(stream.chunks(), validator, write)
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
    ctx.faults.point("before_manifest")
    check_accounting(validator, files, quarantine_files)
    summary.extracted, summary.landed = validator.extracted, validator.landed
    summary.quarantined, summary.skipped_at_watermark = validator.quarantined, validator.skipped
    summary.files, summary.quarantine_files = len(files), len(quarantine_files)
    summary.bytes = sum(f.bytes for f in files) + sum(f.bytes for f in quarantine_files)
    summary.drift = drift_text
    ctx.progress(task, total, total)

    if drift_reason is not None and table.on_drift == "fail_batch":
        raise DriftError(
            f"table {table.name}: the source's columns changed since run {head.run_id if head else '?'}: "
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
    # bronze keeps its schema through a quarantined drift, so the next run still sees the drift
    landed_schema = expected if drift_reason and expected else schema
    manifest = Manifest(
        table=table.name,
        run_id=window.run_id,
        ingest_date=window.ingest_date,
        window_low=window.low,
        window_high=window.high,
        mode=window.mode,
        fetch_mode="fetch",
        from_run_id=window.from_run_id,
        extracted=validator.extracted,
        landed=validator.landed,
        quarantined=validator.quarantined,
        skipped_at_watermark=validator.skipped,
        batches=validator.batches,
        min_cursor=validator.min_cursor,
        max_cursor=validator.max_cursor,
        schema_fingerprint=schema_fingerprint(landed_schema),
        columns=column_docs(landed_schema),
        source_schema=column_docs(schema),
        files=files,
        quarantine_files=quarantine_files,
        drift=drift_text,
        supersedes=supersedes(window.mode, manifests),
        new_watermark=new,
        committed_at=datetime.now(UTC),
    )
    commit(ctx.lake, ctx.watermarks, table, manifest, current, ctx.faults)
    if window.mode != "backfill":
        summary.watermark_to = iso(new.cursor)
    summary.status = "landed"


def _drift(expected: pa.Schema | None, actual: pa.Schema) -> Any:
    if expected is None:
        return None
    from ingestion.contracts import schema_drift

    return schema_drift(expected, actual)
