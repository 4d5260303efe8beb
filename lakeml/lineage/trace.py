"""Where model version N came from, assembled from what each stage recorded, through the ports.

    registry   version metadata: pipeline_execution_id, dbt_invocation_id, data_snapshot, git_sha
    lake       the execution's step reports: ingest.json (features), split.json (training snapshot),
               evaluation.json; runs/dbt/<invocation>/run_results.json and bronze_runs.json (the bronze
               runs dbt read); bronze/_manifests (each run's source window)
    deployer   which endpoints serve the version now, and their config

Nothing here is stored for lineage alone: each link is a record a stage writes anyway, so the answer is
the same locally and on AWS. A link that cannot be followed is a `gap` naming what is missing and what to
do, never a guess; the CLI exits 1 when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ingestion.manifest import Manifest, read_manifests
from lakeml.core.errors import LakemlError
from lakeml.core.lake import LakeStorage
from lakeml.core.lake.runs import BRONZE_RUNS, RUN_RESULTS, dbt_run_file, read_json
from lakeml.core.settings import Settings
from ml_pipelines.feature_store.lineage import UNKNOWN
from ml_pipelines.pipeline import (
    EVALUATION_OUTPUT,
    INGEST_OUTPUT,
    SPLIT_OUTPUT,
    STAGING_ENDPOINT,
    Target,
    output_uri,
)
from ml_pipelines.registry import ModelRegistry, ModelVersion
from ml_pipelines.serving.deploy import Deployer
from ml_pipelines.serving.deploy.port import PRODUCTION_ENDPOINT
from ml_pipelines.training import read_json as read_json_uri

ENDPOINTS = (PRODUCTION_ENDPOINT, STAGING_ENDPOINT)
_EXECUTION_IN_URI = re.compile(r"/executions/([^/]+)/")


class LineagePorts(Protocol):
    """The ports lineage reads (the wiring's adapters object has them)."""

    @property
    def lake(self) -> LakeStorage: ...

    @property
    def registry(self) -> ModelRegistry: ...

    @property
    def deployer(self) -> Deployer: ...


@dataclass
class Lineage:
    """The answer for one version; `gaps` lists every link that could not be followed."""

    model: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)
    features: dict[str, Any] = field(default_factory=dict)
    dbt: dict[str, Any] = field(default_factory=dict)
    bronze_runs: list[dict[str, Any]] = field(default_factory=list)
    source_windows: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "training": self.training,
            "features": self.features,
            "dbt": self.dbt,
            "bronze_runs": self.bronze_runs,
            "source_windows": self.source_windows,
            "endpoints": self.endpoints,
            "gaps": self.gaps,
        }


def trace(settings: Settings, ports: LineagePorts, group: str, version: int) -> Lineage:
    """The lineage of `group`/`version`; UnknownModelGroup/UnknownModelVersion (exit 2) when it is not
    registered."""
    model = ports.registry.get(group, version)
    lineage = Lineage(model=_model(model))
    execution_id = _execution_id(model)
    _training(lineage, settings, ports.lake, model, execution_id)
    invocation = _invocation(lineage, model)
    if invocation:
        _dbt(lineage, ports.lake, invocation)
    lineage.endpoints = _endpoints(lineage, ports.deployer, model)
    return lineage


def _model(model: ModelVersion) -> dict[str, Any]:
    return {
        "name": model.name,
        "arn": model.arn,
        "status": model.status,
        "created_at": model.created_at.isoformat(),
        "model_data_url": model.model_data_url,
        "image_uri": model.image_uri,
        "metadata": dict(model.metadata),
    }


def _execution_id(model: ModelVersion) -> str | None:
    """The training execution that registered the version: its metadata, else its evaluation report's
    URI (versions registered before the metadata field existed)."""
    given = model.metadata.get("pipeline_execution_id")
    if given:
        return given
    found = _EXECUTION_IN_URI.search(model.evaluation_url or "")
    return found.group(1) if found else None


def _training(
    lineage: Lineage, settings: Settings, lake: LakeStorage, model: ModelVersion, execution_id: str | None
) -> None:
    lineage.training = {
        "pipeline_execution_id": execution_id,
        "data_snapshot": model.metadata.get("data_snapshot"),
        "git_sha": model.metadata.get("git_sha"),
        "evaluation": model.evaluation_url,
    }
    if execution_id is None:
        lineage.gaps.append(
            f"{model.name} names no training execution (no pipeline_execution_id metadata or evaluation "
            "report): it was registered outside the training pipeline, so its step reports cannot be found"
        )
        return
    target = Target.from_settings(settings)
    split = _lake_json(lake, output_uri(target, execution_id, SPLIT_OUTPUT))
    if split is not None:
        lineage.training["splits"] = {
            name: {k: info.get(k) for k in ("rows", "snapshot_from", "snapshot_to")}
            for name, info in (split.get("splits") or {}).items()
        }
    evaluation = _lake_json(lake, output_uri(target, execution_id, EVALUATION_OUTPUT)) or {}
    for key in ("training_job", "training_rows"):
        lineage.training[key] = (evaluation.get("lineage") or {}).get(key)
    features = _lake_json(lake, output_uri(target, execution_id, INGEST_OUTPUT))
    if features is None:
        lineage.gaps.append(
            f"the feature ingestion report of execution {execution_id} is not in the lake "
            f"({output_uri(target, execution_id, INGEST_OUTPUT)}); was the lake's bucket or execution "
            "folder cleaned up?"
        )
        return
    lineage.features = {
        key: features.get(key)
        for key in ("feature_group", "rows", "customers", "snapshot_from", "snapshot_to", "lineage")
    }


def _invocation(lineage: Lineage, model: ModelVersion) -> str | None:
    invocation = model.metadata.get("dbt_invocation_id")
    if not invocation or invocation in (UNKNOWN, "latest"):
        lineage.gaps.append(
            f"{model.name} records no dbt invocation ({invocation or 'none'}): it was trained before "
            "transform published its run results. Run `lakeml transform` (or `lakeml run`) and train "
            "again for a version with full lineage"
        )
        return None
    return invocation


def _dbt(lineage: Lineage, lake: LakeStorage, invocation: str) -> None:
    results = read_json(lake, dbt_run_file(invocation, RUN_RESULTS))
    lineage.dbt = {
        "invocation_id": invocation,
        "run_results": lake.uri_of(dbt_run_file(invocation, RUN_RESULTS)),
    }
    if results is None:
        lineage.gaps.append(
            f"dbt invocation {invocation}'s run results are not in the lake ({lineage.dbt['run_results']}); "
            "transform publishes them after every build, so this build ran elsewhere or they were deleted"
        )
        return
    statuses = [str(r.get("status")) for r in results.get("results") or []]
    metadata = results.get("metadata") or {}
    lineage.dbt.update(
        generated_at=metadata.get("generated_at"),
        dbt_version=metadata.get("dbt_version"),
        command=(results.get("args") or {}).get("which"),
        nodes=len(statuses),
        failed=sum(s in ("error", "fail") for s in statuses),
    )
    visible = read_json(lake, dbt_run_file(invocation, BRONZE_RUNS))
    if visible is None:
        lineage.gaps.append(f"dbt invocation {invocation} has no bronze_runs.json next to its run results")
        return
    _bronze(lineage, lake, visible)


def _bronze(lineage: Lineage, lake: LakeStorage, visible: Mapping[str, list[dict[str, Any]]]) -> None:
    """Each bronze run dbt read, with the source window its manifest records; per table, the window
    they cover together."""
    for table, runs in visible.items():
        manifests = {m.run_id: m for m in read_manifests(lake, table)}
        windows: list[Manifest] = []
        for run in runs:
            manifest = manifests.get(run["run_id"])
            entry = {k: run.get(k) for k in ("table", "run_id", "mode", "committed_at", "landed")}
            if manifest is None:
                lineage.gaps.append(f"bronze run {table}/{run['run_id']} has no manifest any more")
            else:
                windows.append(manifest)
                entry["window_low"] = _iso(manifest.window_low)
                entry["window_high"] = _iso(manifest.window_high)
            lineage.bronze_runs.append(entry)
        if windows:
            lows = [m.window_low for m in windows if m.window_low is not None]
            lineage.source_windows[table] = {
                # a run without a low bound (a full refresh) read the table from its beginning
                "from": _iso(min(lows)) if len(lows) == len(windows) else None,
                "to": _iso(max(m.window_high for m in windows)),
                "runs": len(windows),
            }


def _endpoints(lineage: Lineage, deployer: Deployer, model: ModelVersion) -> list[dict[str, Any]]:
    found = []
    for endpoint in ENDPOINTS:
        try:
            serving = deployer.serving(endpoint)
        except LakemlError as exc:
            lineage.gaps.append(f"could not ask endpoint {endpoint} what it serves: {exc}")
            continue
        found.append(
            {
                "endpoint": endpoint,
                "serving": f"{serving[0]}/{serving[1]}" if serving else None,
                "this_version": serving == (model.group, model.version),
                "config": deployer.endpoint_config(endpoint) if serving else None,
            }
        )
    return found


def _lake_json(lake: LakeStorage, uri: str) -> dict[str, Any] | None:
    return read_json_uri(lake, uri) or None  # a step report is never empty: {} means it is not there


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
