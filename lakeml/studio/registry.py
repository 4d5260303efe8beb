"""The studio's Model registry pages: groups, versions beside the champion, lineage, approval history.

Everything is read through the registry and deployer ports (the local SQLite registry, or SageMaker's
model registry with LAKEML_ENV=aws). Decisions go through `ml_pipelines.decisions.decide_and_deploy`,
the function `lakeml models approve|reject` calls, and rollback through
`ml_pipelines.serving.on_approval.rollback`, the one `lakeml models rollback` calls.
"""

from __future__ import annotations

from typing import Any

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings
from lakeml.wiring import Adapters
from ml_pipelines.registry import ModelVersion
from ml_pipelines.serving.deploy import PRODUCTION_ENDPOINT


def groups(ports: Adapters) -> list[dict[str, Any]]:
    registry = ports.registry
    rows = []
    for name in registry.list_groups():
        versions = registry.list_versions(name)
        champion = registry.champion(name)
        rows.append(
            {
                "group": name,
                "versions": len(versions),
                "pending": sum(v.status == "PendingManualApproval" for v in versions),
                "champion": champion.version if champion else None,
            }
        )
    return rows


def compare(version: ModelVersion, champion: ModelVersion | None) -> list[dict[str, Any]]:
    """Each metric of `version` beside the champion's, with the difference."""
    names = sorted({*version.metrics, *(champion.metrics if champion else {})})
    rows = []
    for name in names:
        mine = version.metrics.get(name)
        theirs = champion.metrics.get(name) if champion else None
        delta = mine - theirs if mine is not None and theirs is not None else None
        rows.append({"name": name, "value": mine, "champion": theirs, "delta": delta})
    return rows


def group_document(ports: Adapters, group: str) -> dict[str, Any]:
    registry = ports.registry
    versions = registry.list_versions(group)
    champion = registry.champion(group)
    serving = ports.deployer.serving(PRODUCTION_ENDPOINT)
    return {
        "group": group,
        "champion": champion.to_json() if champion else None,
        "serving": f"{serving[0]}/{serving[1]}" if serving else None,
        "metric_names": sorted({m for v in versions for m in v.metrics}),
        "versions": [v.to_json() for v in reversed(versions)],  # newest first
    }


def version_document(settings: Settings, ports: Adapters, group: str, number: int) -> dict[str, Any]:
    registry = ports.registry
    version = registry.get(group, number)
    champion = registry.champion(group)
    return {
        "version": version.to_json(),
        "is_champion": champion is not None and champion.version == version.version,
        "champion": champion.to_json() if champion else None,
        "metrics": compare(version, champion),
        "history": [e.to_json() for e in registry.history(group, number)],
        "lineage": lineage(settings, ports, group, number),
    }


def lineage(settings: Settings, ports: Adapters, group: str, number: int) -> dict[str, Any]:
    """`lakeml lineage`'s document for the version; a failure to trace is shown, never fatal."""
    from lakeml.lineage import trace

    try:
        return trace(settings, ports, group, number).to_json()
    except LakemlError as exc:
        return {"error": str(exc), "gaps": [str(exc)]}
