"""Lambda entry point of the EventBridge rule on SageMaker model package state changes.

Thin on purpose: `ml_pipelines.serving.on_approval.handle` checks the event against the registry and makes
the production endpoint serve the group's champion — the same hook `lakeml models approve` runs locally.
"""

from __future__ import annotations

from typing import Any

from lakeml.core.settings import load_settings
from lakeml.wiring import adapters
from ml_pipelines.serving.on_approval import handle


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    ports = adapters(load_settings())
    return handle(ports.registry, ports.deployer, event)
