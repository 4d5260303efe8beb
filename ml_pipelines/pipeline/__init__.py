"""The SageMaker pipeline definitions — built once, with the SageMaker Python SDK 3.x, for AWS and local.

`definition()` gives the JSON of the churn training pipeline (`training`) or of the batch-scoring
pipeline (`batch`); the same JSON is upserted to SageMaker and executed by the local runner, through the
pipeline runner port (`ml_pipelines.runner.port`). `target` holds the names baked into it, `parts` the
building blocks, and quirks of building offline are in `ml_pipelines.sagemaker_session`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ml_pipelines.pipeline.batch import build_batch_pipeline, scores_uri
from ml_pipelines.pipeline.target import (
    BATCH_PIPELINE,
    DEFAULT_LAKE_BUCKET,
    DEFAULT_MODEL_PACKAGE_GROUP,
    PLACEHOLDER_ACCOUNT,
    STAGING_ENDPOINT,
    TRAINING_PIPELINE,
    Target,
    pipeline_name,
)
from ml_pipelines.pipeline.training import (
    EVALUATION_OUTPUT,
    EVALUATION_PATHS,
    INGEST_OUTPUT,
    SPLIT_OUTPUT,
    build_training_pipeline,
    evaluation_uri,
    output_uri,
)
from ml_pipelines.sagemaker_session import offline

if TYPE_CHECKING:
    from lakeml.core.settings import Settings


def definition(target: Target | None = None, *, batch: bool = False) -> dict[str, Any]:
    """The definition JSON as a dict (key order as the SDK writes it)."""
    target = target or Target()
    with offline():  # the SDK evaluates step arguments lazily, inside `definition()`
        pipeline = build_batch_pipeline(target) if batch else build_training_pipeline(target)
        return dict(json.loads(pipeline.definition()))


def definition_for(settings: Settings, *, batch: bool = False) -> dict[str, Any]:
    """The definition for this configuration (what `lakeml pipeline definition|upsert|run` use)."""
    return definition(Target.from_settings(settings), batch=batch)


def render(document: dict[str, Any]) -> str:
    """Stable text of a definition: what the snapshot file holds and what is uploaded."""
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


__all__ = [
    "BATCH_PIPELINE",
    "DEFAULT_LAKE_BUCKET",
    "DEFAULT_MODEL_PACKAGE_GROUP",
    "EVALUATION_OUTPUT",
    "EVALUATION_PATHS",
    "INGEST_OUTPUT",
    "PLACEHOLDER_ACCOUNT",
    "SPLIT_OUTPUT",
    "STAGING_ENDPOINT",
    "TRAINING_PIPELINE",
    "Target",
    "build_batch_pipeline",
    "build_training_pipeline",
    "definition",
    "definition_for",
    "evaluation_uri",
    "output_uri",
    "pipeline_name",
    "render",
    "scores_uri",
]
