"""The daily flow, declared once: its stages in order, each with its local function and how it runs on AWS.

Locally `LocalOrchestrator` runs the functions in this process; on AWS the Step Functions state machine
rendered from the same `STAGES` by `lakeml.flow.asl` runs each stage's `aws` spec (Lambda, ECS, SageMaker
pipeline), with the retries, timeouts and notifications that spec declares. A stage whose `aws` is None is
local-only (the Snowflake twin and its extraction views: on AWS the source is the real Snowflake).

Each stage returns a JSON-able document with a one-line `summary`; a stage that raises stops the flow
and its error names what to do. A document with a `warning` ({"subject", "message"}) is an outcome worth a
warning notification that does not stop the flow (no model registered, nothing to score with).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings, environment_of
from lakeml.flow.aws_spec import AwsTask, EcsTask, LambdaMap, LambdaTask, PipelineRun, Placeholder
from lakeml.flow.port import ProgressFn
from ml_pipelines.pipeline.target import DEFAULT_MODEL_PACKAGE_GROUP


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

    @property
    def registry(self) -> Any: ...


@dataclass
class StageContext:
    settings: Settings
    ports: FlowPorts
    params: dict[str, str] = field(default_factory=dict)
    progress: ProgressFn = lambda _task, _done, _total: None
    execution_id: str = "local"
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # documents of the stages done


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: Callable[[StageContext], dict[str, Any]]
    aws: AwsTask | None = None  # None: local-only (no state of the Step Functions flow)

    @property
    def local_only(self) -> bool:
        return self.aws is None


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
    """Build the Snowflake-side extraction views (dbt, models tagged snowflake) in the source when their
    definitions or the source schema changed since the last build (`lakeml.transform.views`)."""
    from lakeml.transform.views import ensure_extraction_views

    outcome = ensure_extraction_views(
        ctx.ports.transform_target, ctx.ports.source.connection, progress=ctx.progress
    )
    report = outcome.report
    if report.failed or not report.success:
        raise LakemlError(f"extraction views failed: {', '.join(report.failed) or 'see the dbt log'}")
    return {**outcome.to_json(), "summary": outcome.summary}


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


def quality_stage(ctx: StageContext) -> dict[str, Any]:
    """The data-quality monitor (the quality Lambda's library call): past a threshold it raises
    `QualityThresholdExceeded` and the flow stops before training on bad data."""
    return run_quality(ctx)


def run_quality(ctx: StageContext) -> dict[str, Any]:
    """The one call into `lakeml.monitor`, kept apart so the stage reads as the declaration's other stages."""
    from lakeml.monitor import check

    return check(ctx.settings, ctx.ports, ctx.execution_id, ingest=ctx.results.get("ingest")).document()


def train_stage(ctx: StageContext) -> dict[str, Any]:
    """The SageMaker training pipeline through the pipeline runner port. A FailStep (the challenger missed
    a gate) is a normal outcome: nothing new is registered, the summary says why, and a warning goes out;
    the flow goes on to score with the current champion."""
    from ml_pipelines.training import train

    outcome = train(ctx.settings, ctx.ports.pipelines, ctx.ports.lake, ctx.params)
    document = outcome.document()
    if outcome.registered is None:
        document["warning"] = {"subject": NO_MODEL_SUBJECT, "message": outcome.failure_reason or ""}
    return document


def score_stage(ctx: StageContext) -> dict[str, Any]:
    """Batch scoring with the Approved champion; skipped with a warning while no version is Approved (the
    first runs, before anyone approved one): that is a state to act on, not a failure."""
    from ml_pipelines.scoring import score

    champion = ctx.ports.registry.champion(DEFAULT_MODEL_PACKAGE_GROUP)
    if champion is None:
        message = (
            f"no Approved version in {DEFAULT_MODEL_PACKAGE_GROUP}: scoring skipped "
            f"(`lakeml models approve {DEFAULT_MODEL_PACKAGE_GROUP} <version>`)"
        )
        return {
            "skipped": True,
            "summary": message,
            "warning": {"subject": NO_CHAMPION_SUBJECT, "message": message},
        }
    outcome = score(ctx.settings, ctx.ports.pipelines, ctx.ports.lake)
    return {
        **outcome.document(),
        "champion": champion.version,
        "summary": f"scored {outcome.rows:,} customers with version {champion.version}",
    }


NO_MODEL_SUBJECT = "no model registered"  # the subjects of the flow's warnings, locally and on AWS
NO_CHAMPION_SUBJECT = "no champion to score with"
GATE_FAILURE_MESSAGE = "Model not registered: "  # how the training pipeline's FailStep message starts

STAGES: tuple[Stage, ...] = (
    Stage("source", "local Snowflake twin with churn data", source_stage),
    Stage("views", "Snowflake extraction views (dbt)", views_stage),
    Stage(
        "ingest",
        "Snowflake -> bronze, exactly once",
        ingest_stage,
        LambdaMap(Placeholder.INGEST_FUNCTION, "$.tables", "tables", {"full_refresh": False}),
    ),
    Stage(
        "transform",
        "dbt build: bronze -> silver -> gold, tests as gates",
        transform_stage,
        EcsTask(
            command=("lakeml", "--json", "transform"),
            environment=environment_of({"env": "aws", "transform.target": "glue"}),
            failure_error="DbtBuildFailed",
        ),
    ),
    Stage(
        "quality",
        "data-quality monitor: thresholds on ingestion and dbt",
        quality_stage,
        LambdaTask(Placeholder.QUALITY_FUNCTION),
    ),
    Stage(
        "train",
        "SageMaker training pipeline",
        train_stage,
        PipelineRun(
            Placeholder.TRAINING_PIPELINE,
            "training pipeline",
            parameters_path="$.pipeline_params",
            gate_message=f"*{GATE_FAILURE_MESSAGE.strip()}*",
        ),
    ),
    Stage(
        "score",
        "batch scoring with the Approved champion",
        score_stage,
        PipelineRun(
            Placeholder.SCORING_PIPELINE, "scoring pipeline", champion_group=DEFAULT_MODEL_PACKAGE_GROUP
        ),
    ),
)
