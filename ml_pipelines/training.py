"""Training as a library call: `train()` publishes the training pipeline, executes it through the runner
port and reads what the user needs to know from it — did a new version get registered, the challenger's
test AUC and the champion's, and if not registered, why.

A FailStep (the challenger missed a gate) is an outcome, not an error: `train()` returns it with the
FailStep's message. Any other failed step raises `TrainingFailed`, naming the step and where its output is.
The AUCs come from the evaluation.json the Evaluate step wrote, read through the lake port, so the same
code reads the local lake folder and S3.

Lineage: unless the caller names one, the execution gets `DbtInvocationId` = the newest dbt build
transform published to the lake (`runs/dbt/latest.json`), pinned when the execution starts; feature
ingestion records it and the registered version carries it (`ml_pipelines.feature_store.lineage`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from lakeml.core.errors import LakemlError
from ml_pipelines.feature_store.lineage import latest_invocation_id
from ml_pipelines.lifecycle import execute, publish
from ml_pipelines.pipeline import TRAINING_PIPELINE, Target, evaluation_uri
from ml_pipelines.pipeline.training import DBT_INVOCATION_PARAM, INGEST_OUTPUT, output_uri
from ml_pipelines.runner.port import ExecutionStatus, PipelineRunner, RegisteredModel, StepCallback

if TYPE_CHECKING:
    from lakeml.core.lake import LakeStorage
    from lakeml.core.settings import Settings


class TrainingFailed(LakemlError):
    """A step of the training pipeline failed (not a gate: those end in the FailStep)."""


class TrainingOutcome(BaseModel):
    execution: ExecutionStatus
    auc: float | None = None  # the challenger's test AUC (None when Evaluate did not run)
    champion_auc: float | None = None  # the Approved champion's on the same test set (None: no champion)
    features: dict[str, Any] | None = None  # IngestFeatures: records written/skipped (its ingest.json)

    @property
    def status(self) -> str:
        return self.execution.status

    @property
    def registered(self) -> RegisteredModel | None:
        return self.execution.registered

    @property
    def failure_reason(self) -> str | None:
        return self.execution.failure_reason

    @property
    def failed_by_fail_step(self) -> bool:
        return self.execution.failed_by_fail_step

    @property
    def execution_id(self) -> str:
        return self.execution.execution_id

    @property
    def graph(self) -> str | None:
        return self.execution.graph

    @property
    def summary(self) -> str:
        """One line: the scores, then what was registered or why nothing was."""
        scores = f"test AUC {self.auc:.3f}" if self.auc is not None else "no evaluation"
        scores += (
            f" vs champion {self.champion_auc:.3f}" if self.champion_auc is not None else " (no champion yet)"
        )
        if self.features:
            scores = (
                f"features: {self.features.get('records_written', 0):,} records written, "
                f"{self.features.get('records_skipped', 0):,} skipped; {scores}"
            )
        if self.registered:
            r = self.registered
            return f"{scores}; registered {r.group} version {r.version} ({r.status})"
        return f"{scores}; nothing registered: {self.failure_reason}"

    def document(self) -> dict[str, Any]:
        """The train stage's JSON: the execution document plus the AUCs and the summary line."""
        return {
            **self.execution.document(),
            "auc": self.auc,
            "champion_auc": self.champion_auc,
            "features": self.features,
            "summary": self.summary,
        }


def train(
    settings: Settings,
    pipelines: PipelineRunner,
    lake: LakeStorage,
    params: Mapping[str, str] | None = None,
    *,
    on_step: StepCallback | None = None,
    timeout_s: float | None = None,
) -> TrainingOutcome:
    """Publish and run the training pipeline with `params` (pipeline parameters, K=V); its outcome."""
    params = with_dbt_invocation(lake, params)
    publish(settings, pipelines)
    status = execute(pipelines, TRAINING_PIPELINE, params, on_step=on_step, timeout_s=timeout_s)
    if status.status != "Succeeded" and not status.failed_by_fail_step:
        where = f" — see `{status.logs_hint}`" if status.logs_hint else ""
        raise TrainingFailed(f"step {status.failed_step} failed: {status.failure_reason}{where}")
    target = Target.from_settings(settings)
    evaluation = read_json(lake, evaluation_uri(target, status.pipeline_execution_id))
    ingested = read_json(lake, output_uri(target, status.pipeline_execution_id, INGEST_OUTPUT))
    return TrainingOutcome(
        execution=status,
        auc=_value(evaluation, "metrics", "auc"),
        champion_auc=_value(evaluation, "champion", "auc"),
        features={key: ingested[key] for key in FEATURE_COUNTS if key in ingested} or None,
    )


# What the train stage shows of IngestFeatures' report (ingest.json).
FEATURE_COUNTS = ("records_written", "records_skipped", "event_times_written", "backfill", "seconds")


def with_dbt_invocation(lake: LakeStorage, params: Mapping[str, str] | None) -> dict[str, str]:
    """`params` plus `DbtInvocationId` = the newest published dbt build, unless given (or none exists:
    the pipeline's default `latest` then lets IngestFeatures look again when it runs)."""
    merged = dict(params or {})
    if DBT_INVOCATION_PARAM not in merged:
        latest = latest_invocation_id(lake)
        if latest:
            merged[DBT_INVOCATION_PARAM] = latest
    return merged


def read_json(lake: LakeStorage, uri: str) -> dict[str, Any]:
    """A JSON document of the lake ({} when it is not there)."""
    try:
        path = lake.resolve(uri)
        with lake.fs.open_input_stream(path) as stream:
            return dict(json.loads(stream.read()))
    except (ValueError, OSError):
        return {}


def _value(document: dict[str, Any], section: str, metric: str) -> float | None:
    value = ((document.get(section) or {}).get(metric) or {}).get("value")
    return float(value) if value is not None else None
