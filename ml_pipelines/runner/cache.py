"""Step caching, as SageMaker's CacheConfig does it: a step whose resolved arguments equal those of an
earlier run (within `ExpireAfter`) reuses that run's properties instead of running its job again.

Entries live in `<home>/pipelines/cache/<sha256 of the step's type, arguments, function and property
files>.json`; a changed argument is a different key, so a miss, never a stale hit.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ml_pipelines.runner.definition import Step
from ml_pipelines.runner.errors import DefinitionError
from ml_pipelines.runner.record import Registered, StepRecord

DEFAULT_EXPIRY = "P30D"


def iso_duration(text: str) -> timedelta:
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text or "")
    if not match or not any(match.groups()):
        raise DefinitionError(
            f"CacheConfig ExpireAfter {text!r} is not an ISO-8601 duration like PT1H or P30D"
        )
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def check(step: Step) -> None:
    """Fail before the run on a CacheConfig that cannot be honoured."""
    config = step.raw.get("CacheConfig") or {}
    if config.get("Enabled"):
        iso_duration(config.get("ExpireAfter", DEFAULT_EXPIRY))


@dataclass(frozen=True)
class CacheHit:
    execution_id: str
    properties: dict[str, Any]
    metrics: dict[str, float]
    registered: Registered | None


class StepCache:
    def __init__(self, pipelines_dir: Path) -> None:
        self.root = pipelines_dir / "cache"

    @staticmethod
    def key(step: Step, arguments: Any, function_arn: Any) -> str:
        body = json.dumps(
            {
                "type": step.type,
                "arguments": arguments,
                "function": function_arn,
                "property_files": step.raw.get("PropertyFiles", []),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()

    def get(self, step: Step, key: str) -> CacheHit | None:
        config = step.raw.get("CacheConfig") or {}
        path = self.root / f"{key}.json"
        if not config.get("Enabled") or not path.is_file():
            return None
        entry = json.loads(path.read_text())
        age = datetime.now(UTC) - datetime.fromisoformat(entry["created_at"])
        if age > iso_duration(config.get("ExpireAfter", DEFAULT_EXPIRY)):
            return None
        registered = entry.get("registered")
        return CacheHit(
            execution_id=entry["execution_id"],
            properties=entry["properties"],
            metrics=entry.get("metrics", {}),
            registered=Registered.model_validate(registered) if registered else None,
        )

    def put(self, step: Step, key: str, execution_id: str, entry: StepRecord) -> None:
        if not (step.raw.get("CacheConfig") or {}).get("Enabled"):
            return
        self.root.mkdir(parents=True, exist_ok=True)
        document = {
            "created_at": datetime.now(UTC).isoformat(),
            "execution_id": execution_id,
            "properties": entry.properties,
            "metrics": entry.metrics,
            "registered": entry.registered.model_dump() if entry.registered else None,
        }
        (self.root / f"{key}.json").write_text(json.dumps(document, default=str))
