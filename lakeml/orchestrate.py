"""`lakeml run`: the daily flow in one process tree, in the same order as the Step Functions workflow.

Each stage is a function (settings, progress) -> JSON-able document with a one-line `summary`. A stage
that raises stops the run; the error names the stage. Stages are added here as they exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings

ProgressFn = Callable[[str, int, int], None]
StageFn = Callable[[Settings, ProgressFn], dict[str, Any]]


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: StageFn


def source_stage(settings: Settings, progress: ProgressFn) -> dict[str, Any]:
    """Seed the local source when it is empty; leave it alone otherwise."""
    from lakeml.twins.snowflake.generator import SeedConfig
    from lakeml.wiring import adapters

    twin = adapters(settings).twin
    counts = twin.table_counts()
    if any(counts.values()):
        return {
            "seeded": False,
            "tables": counts,
            "summary": f"source has {sum(counts.values()):,} rows; kept as is",
        }
    report = twin.seed(SeedConfig(), progress=progress)
    return {
        "seeded": True,
        **report,
        "summary": f"seeded {sum(report['tables'].values()):,} rows through {report['through']}",
    }


def ingest_stage(settings: Settings, progress: ProgressFn) -> dict[str, Any]:
    """Land new and changed source rows in bronze (the same call as the Lambda handler)."""
    from ingestion.run import ingest

    report = ingest(settings, progress=progress).model_dump(mode="json")
    landed = sum(r["landed"] for r in report["runs"])
    quarantined = sum(r["quarantined"] for r in report["runs"])
    return {**report, "summary": f"landed {landed:,} rows, quarantined {quarantined:,}"}


def _evaluation(settings: Settings, record: dict[str, Any]) -> dict[str, Any]:
    """The evaluation.json the execution's evaluate step wrote (empty when it did not run)."""
    import json
    from pathlib import Path

    from ml_pipelines.runner.config import RunnerConfig

    config = RunnerConfig.from_settings(settings)
    for step in record["steps"]:
        outputs = (step.get("properties") or {}).get("ProcessingOutputConfig", {}).get("Outputs", {})
        for output in outputs.values():
            path = Path(config.local_path(output["S3Output"]["S3Uri"])) / "evaluation.json"
            if path.is_file():
                return dict(json.loads(path.read_text()))
    return {}


def train_stage(
    settings: Settings, progress: ProgressFn, params: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run the SageMaker training pipeline's definition JSON with the local runner (`lakeml pipeline run`).

    A FailStep (the challenger missed a gate) is a normal outcome — nothing new is registered and the
    summary says why; any other failed step fails the stage."""
    from lakeml.cli.pipeline_local import run_local, summary
    from ml_pipelines.pipeline import definition_for

    record = run_local(settings, definition_for(settings), params or {}, quiet=True)
    document = summary(record)
    if record["status"] != "Succeeded" and not record.get("failed_by_fail_step"):
        raise LakemlError(
            f"step {record.get('failed_step')} failed: {record.get('failure_reason')} — see "
            f"`lakeml pipeline logs {record['execution_id']} {record.get('failed_step')}`"
        )
    evaluation = _evaluation(settings, record)
    auc = (evaluation.get("metrics", {}).get("auc") or {}).get("value")
    champion = ((evaluation.get("champion") or {}).get("auc") or {}).get("value")
    document.update(auc=auc, champion_auc=champion)
    scores = f"test AUC {auc:.3f}" if auc is not None else "no evaluation"
    scores += f" vs champion {champion:.3f}" if champion is not None else " (no champion yet)"
    if document.get("registered"):
        r = document["registered"]
        outcome = f"registered {r['group']} version {r['version']} ({r['status']})"
    else:
        outcome = f"nothing registered: {record.get('failure_reason')}"
    return {**document, "summary": f"{scores}; {outcome}"}


def views_stage(settings: Settings, progress: ProgressFn) -> dict[str, Any]:
    """Build the Snowflake-side extraction views (dbt, models tagged snowflake) in the source."""
    from lakeml.transform import build_extraction_views
    from lakeml.wiring import adapters

    report = build_extraction_views(adapters(settings).transform_target, progress=progress)
    if report.failed or not report.success:
        raise LakemlError(f"extraction views failed: {', '.join(report.failed) or 'see the dbt log'}")
    return {**report.to_json(), "summary": f"{report.models} extraction views built in the source"}


def transform_stage(settings: Settings, progress: ProgressFn) -> dict[str, Any]:
    """dbt build bronze -> silver -> gold; a failed model or test stops the run before training."""
    from lakeml.transform import build
    from lakeml.wiring import adapters

    report = build(adapters(settings).transform_target, progress=progress)
    if report.failed or not report.success:
        raise LakemlError(
            f"dbt build failed: {', '.join(report.failed) or 'see the dbt log'}; gold was not rebuilt "
            f"({len(report.skipped)} nodes skipped). Failing rows: <lake>/quarantine/dbt/; log: "
            f"{settings.home / 'dbt' / 'logs' / 'dbt.log'}"
        )
    return report.to_json()


def stages(settings: Settings, pipeline_params: dict[str, str] | None = None) -> list[Stage]:
    found = [
        Stage("source", "local Snowflake with churn data", source_stage),
        Stage("views", "Snowflake extraction views (dbt)", views_stage),
        Stage("ingest", "Snowflake -> bronze, exactly once", ingest_stage),
        Stage("transform", "dbt build: bronze -> silver -> gold, tests as gates", transform_stage),
        Stage(
            "train",
            "SageMaker training pipeline, run locally",
            lambda s, p: train_stage(s, p, pipeline_params),
        ),
    ]
    if settings.env != "local":
        found = [s for s in found if s.name not in ("source", "views")]
    return found


class StageFailed(LakemlError):
    def __init__(self, stage: str, cause: Exception, completed: dict[str, Any]) -> None:
        super().__init__(f"stage '{stage}' failed: {cause}")
        self.stage = stage
        self.completed = completed
        self.exit_code = getattr(cause, "exit_code", 1)


def run_all(
    settings: Settings,
    progress: ProgressFn,
    on_stage: Callable[[Stage, dict[str, Any]], None] | None = None,
    pipeline_params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run every stage in order; return {stage: document} plus timings."""
    documents: dict[str, Any] = {}
    for stage in stages(settings, pipeline_params):
        started = time.monotonic()
        try:
            document = stage.run(settings, progress)
        except Exception as exc:
            raise StageFailed(stage.name, exc, documents) from exc
        document["seconds"] = round(time.monotonic() - started, 2)
        documents[stage.name] = document
        if on_stage:
            on_stage(stage, document)
    return documents
