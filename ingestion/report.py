"""What `ingest()` reports: one summary per table run (the shape of `lakeml --json ingest` and of the
Lambda's return value), and the error that carries the report when a table failed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from ingestion.extract import Mode
from lakeml.core.errors import LakemlError


class RunSummary(BaseModel):
    table: str
    run_id: str | None
    mode: Mode
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


class IngestFailed(LakemlError):
    """At least one table failed; the others' runs are in `report`."""

    def __init__(self, message: str, report: IngestReport) -> None:
        super().__init__(message)
        self.report = report


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
