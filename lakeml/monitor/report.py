"""What the data-quality monitor found: per-table facts, the dbt build, the thresholds and the breaches.

One model for every reader: the quality Lambda returns `document()` to Step Functions, the local flow's
`quality` stage shows its `summary`, and the same document is written to `runs/quality/<id>.json` in the
lake so a failed flow can be investigated after the fact. `QualityThresholdExceeded` carries the report;
its class name is the error name Step Functions' Catch sees.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lakeml.core.errors import LakemlError


class Thresholds(BaseModel):
    """The limits a run is checked against (defaults: the `quality` settings; an event may override)."""

    model_config = ConfigDict(extra="forbid")

    max_failed_tables: int = Field(ge=0)
    max_quarantine_rate: float = Field(ge=0, le=1)
    max_watermark_lag_hours: float | None = Field(default=None, gt=0)
    max_dbt_failures: int = Field(ge=0)
    require_dbt_run: bool = True
    window_hours: float = Field(gt=0)


class TableQuality(BaseModel):
    """One configured table as the lake shows it (committed manifests) and as ingestion reported it."""

    table: str
    status: Literal["ok", "failed", "missing"]
    visible_runs: int
    runs_in_window: int
    extracted: int
    quarantined: int
    quarantine_rate: float | None
    last_committed_at: str | None
    watermark: str | None
    watermark_lag_hours: float | None
    error: str | None = None


class DbtQuality(BaseModel):
    """The latest published dbt build (`runs/dbt/latest.json` and its run_results.json)."""

    status: Literal["ok", "failed", "missing"]
    invocation_id: str | None = None
    run_results: str | None = None
    generated_at: str | None = None
    target: str | None = None
    nodes: int = 0
    failures: int = 0
    warnings: int = 0
    failed: list[dict[str, str]] = Field(default_factory=list)
    message: str = ""


class Breach(BaseModel):
    """One threshold exceeded: which check, the measured value, the limit, and what to do."""

    check: str
    value: float
    limit: float
    message: str


class QualityReport(BaseModel):
    execution_id: str
    checked_at: datetime
    lake: str
    thresholds: Thresholds
    tables: list[TableQuality]
    dbt: DbtQuality
    breaches: list[Breach]
    report_uri: str | None = None

    @property
    def passed(self) -> bool:
        return not self.breaches

    def measures(self) -> dict[str, float | None]:
        """The numbers the thresholds apply to (and the EMF metrics publish)."""
        extracted = sum(t.extracted for t in self.tables)
        quarantined = sum(t.quarantined for t in self.tables)
        lags = [t.watermark_lag_hours for t in self.tables if t.watermark_lag_hours is not None]
        return {
            "tables_failed": sum(t.status != "ok" for t in self.tables),
            "quarantine_rate": round(quarantined / extracted, 6) if extracted else 0.0,
            "max_watermark_lag_hours": max(lags) if lags else None,
            "dbt_failures": self.dbt.failures,
            "dbt_warnings": self.dbt.warnings,
        }

    def summary(self) -> str:
        m = self.measures()
        lag = m["max_watermark_lag_hours"]
        facts = (
            f"{len(self.tables)} tables ({m['tables_failed']} failed), quarantine rate "
            f"{(m['quarantine_rate'] or 0) * 100:.2f}%, "
            + (f"watermark lag ≤ {lag:.1f} h, " if lag is not None else "")
            + (
                f"dbt {self.dbt.invocation_id}: {self.dbt.failures} failures"
                if self.dbt.status != "missing"
                else "no dbt run"
            )
        )
        if self.passed:
            return f"quality ok: {facts}"
        return f"quality FAILED ({'; '.join(b.check for b in self.breaches)}): {facts}"

    def document(self) -> dict[str, Any]:
        """JSON-able: what the Lambda returns, the flow stage shows and the lake keeps."""
        return {
            **self.model_dump(mode="json"),
            "measures": self.measures(),
            "passed": self.passed,
            "summary": self.summary(),
        }

    def raise_if_breached(self) -> None:
        if self.breaches:
            raise QualityThresholdExceeded(self)


class QualityThresholdExceeded(LakemlError):
    """A data-quality threshold tripped: the flow stops before training (exit 1)."""

    def __init__(self, report: QualityReport) -> None:
        self.report = report
        where = f"; report: {report.report_uri}" if report.report_uri else ""
        super().__init__(
            f"data quality below thresholds for {report.execution_id}: "
            + "; ".join(b.message for b in report.breaches)
            + where
        )
