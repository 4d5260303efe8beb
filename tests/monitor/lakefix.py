"""Lake fixtures of the quality monitor: committed ingestion runs (ingestion's own manifest model and
writer) and a published dbt build (the `runs/dbt/` layout of the ISSUE12 contract), on any lake adapter."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from ingestion.manifest import Manifest, write_manifest
from ingestion.watermarks.port import Watermark
from lakeml.core.lake import LakeStorage

TABLES = ("CUSTOMERS", "PRODUCTS", "ORDERS", "ORDER_ITEMS", "SUPPORT_TICKETS")  # ingestion/sources.yml


def commit_run(
    lake: LakeStorage,
    table: str,
    run_id: str,
    *,
    committed_at: datetime,
    cursor: datetime,
    extracted: int = 100,
    quarantined: int = 0,
) -> Manifest:
    """One committed ingestion run of `table` (no parts: the monitor reads counts from the manifest)."""
    manifest = Manifest(
        table=table,
        run_id=run_id,
        ingest_date=committed_at.date().isoformat(),
        window_low=None,
        window_high=cursor,
        mode="incremental",
        fetch_mode="fetch",
        from_run_id=None,
        extracted=extracted,
        landed=extracted - quarantined,
        quarantined=quarantined,
        batches=[(extracted, extracted - quarantined, quarantined)],
        min_cursor=cursor - timedelta(hours=1),
        max_cursor=cursor,
        schema_fingerprint="fixture",
        columns=[],
        files=[],
        quarantine_files=[],
        drift=None,
        supersedes=[],
        new_watermark=Watermark(cursor.replace(tzinfo=None), (), run_id),
        committed_at=committed_at,
    )
    write_manifest(lake, manifest)
    return manifest


def commit_all(lake: LakeStorage, now: datetime, tables: Iterable[str] = TABLES, **kw: int) -> None:
    """A healthy day: every configured table committed an hour ago, watermark two hours old."""
    for table in tables:
        commit_run(
            lake,
            table,
            f"{table.lower()}-r1",
            committed_at=now - timedelta(hours=1),
            cursor=now - timedelta(hours=2),
            **kw,
        )


def publish_dbt(
    lake: LakeStorage, invocation_id: str, statuses: dict[str, str], *, success: bool = True
) -> str:
    """dbt's run_results.json under runs/dbt/<id>/ and latest.json pointing at it; returns its URI."""
    results = {
        "metadata": {"invocation_id": invocation_id, "generated_at": "2026-11-27T04:00:00Z"},
        "results": [
            {"unique_id": node, "status": status, "message": f"{status}: {node}", "failures": 0}
            for node, status in statuses.items()
        ],
        "elapsed_time": 12.5,
    }
    folder = f"runs/dbt/{invocation_id}"
    lake.fs.create_dir(lake.path(folder), recursive=True)
    with lake.fs.open_output_stream(lake.path(folder, "run_results.json")) as out:
        out.write(json.dumps(results).encode())
    uri = lake.uri_of(folder, "run_results.json")
    latest = {
        "invocation_id": invocation_id,
        "run_results": uri,
        "target": "local",
        "generated_at": "2026-11-27T04:00:00Z",
        "success": success,
    }
    with lake.fs.open_output_stream(lake.path("runs/dbt/latest.json")) as out:
        out.write(json.dumps(latest).encode())
    return uri


def read_report(lake: LakeStorage, execution_id: str) -> dict:
    with lake.fs.open_input_stream(lake.path(f"runs/quality/{execution_id}.json")) as stream:
        return json.loads(stream.read())
