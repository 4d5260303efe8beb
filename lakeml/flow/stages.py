"""The daily flow, declared once: its stages in order, each a function of the ports it needs.

Locally `LocalOrchestrator` runs these functions in this process; on AWS the Step Functions state
machine runs the same stages as Lambda/ECS/SageMaker tasks (rendering this declaration to ASL is
issue 12). Each stage returns a JSON-able document with a one-line `summary`; a stage that raises stops
the flow and its error names what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings
from lakeml.flow.port import ProgressFn


class FlowPorts(Protocol):
    """The ports the stages use (the wiring's adapters object has them all)."""

    @property
    def lake(self) -> Any: ...

    @property
    def watermarks(self) -> Any: ...

    @property
    def source(self) -> Any: ...

    @property
    def transform_target(self) -> Any: ...

    @property
    def pipelines(self) -> Any: ...

    @property
    def notifier(self) -> Any: ...

    @property
    def twin(self) -> Any: ...


@dataclass
class StageContext:
    settings: Settings
    ports: FlowPorts
    params: dict[str, str] = field(default_factory=dict)
    progress: ProgressFn = lambda _task, _done, _total: None


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: Callable[[StageContext], dict[str, Any]]


def source_stage(ctx: StageContext) -> dict[str, Any]:
    """Seed the local source twin when it is empty; leave it alone otherwise."""
    twin = ctx.ports.twin
    counts = twin.table_counts()
    if any(counts.values()):
        return {
            "seeded": False,
            "tables": counts,
            "summary": f"source has {sum(counts.values()):,} rows; kept as is",
        }
    report = twin.seed_default(progress=ctx.progress)
    return {
        "seeded": True,
        **report,
        "summary": f"seeded {sum(report['tables'].values()):,} rows through {report['through']}",
    }


def views_stage(ctx: StageContext) -> dict[str, Any]:
    """Build the Snowflake-side extraction views (dbt, models tagged snowflake) in the source."""
    from lakeml.transform import build_extraction_views

    report = build_extraction_views(ctx.ports.transform_target, progress=ctx.progress)
    if report.failed or not report.success:
        raise LakemlError(f"extraction views failed: {', '.join(report.failed) or 'see the dbt log'}")
    return {**report.to_json(), "summary": f"{report.models} extraction views built in the source"}


def ingest_stage(ctx: StageContext) -> dict[str, Any]:
    """Land new and changed source rows in bronze (the same call as the Lambda handler)."""
    from ingestion.run import ingest

    report = ingest(ctx.settings, ctx.ports, progress=ctx.progress).model_dump(mode="json")
    landed = sum(r["landed"] for r in report["runs"])
    quarantined = sum(r["quarantined"] for r in report["runs"])
    return {**report, "summary": f"landed {landed:,} rows, quarantined {quarantined:,}"}


def transform_stage(ctx: StageContext) -> dict[str, Any]:
    """dbt build bronze -> silver -> gold; a failed model or test stops the run before training.

    The bronze visibility index is republished first: dbt's bronze relations read it, and a crash
    between an ingestion commit and its index write must not hide (or resurrect) a run."""
    from ingestion.visibility import publish_visibility
    from lakeml.transform import build

    publish_visibility(ctx.ports.lake)
    target = ctx.ports.transform_target
    report = build(target, progress=ctx.progress)
    if report.failed or not report.success:
        raise LakemlError(
            f"dbt build failed: {', '.join(report.failed) or 'see the dbt log'}; gold was not rebuilt "
            f"({len(report.skipped)} nodes skipped). Failing rows: {target.quarantine_uri}; log: "
            f"{target.logs_dir / 'dbt.log'}"
        )
    return report.to_json()


def train_stage(ctx: StageContext) -> dict[str, Any]:
    """The SageMaker training pipeline through the pipeline runner port. A FailStep (the challenger missed
    a gate) is a normal outcome: nothing new is registered and the summary says why."""
    from ml_pipelines.training import train

    return train(ctx.settings, ctx.ports.pipelines, ctx.ports.lake, ctx.params).document()


STAGES: tuple[Stage, ...] = (
    Stage("source", "local Snowflake twin with churn data", source_stage),
    Stage("views", "Snowflake extraction views (dbt)", views_stage),
    Stage("ingest", "Snowflake -> bronze, exactly once", ingest_stage),
    Stage("transform", "dbt build: bronze -> silver -> gold, tests as gates", transform_stage),
    Stage("train", "SageMaker training pipeline", train_stage),
)
