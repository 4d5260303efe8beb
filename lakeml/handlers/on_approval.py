"""Lambda entry point of the EventBridge rule on SageMaker model package state changes
(`lakeml.handlers.on_approval.handler`; the rule matches `ModelApprovalStatus: Approved`).

Thin on purpose: `ml_pipelines.serving.on_approval.on_approved` checks the event against the registry
and makes the production endpoint serve the group's champion through `champion_hook` — the same hook
`lakeml models approve` runs locally, so both paths reach the same deploy code. Events other than
Approved are acknowledged and change nothing; a repeated delivery finds the champion already serving and
says so (idempotent: docs/decisions.md, "on-approval idempotency").
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from lakeml.core.settings import load_settings
from lakeml.wiring import adapters
from ml_pipelines.serving.on_approval import on_approved

logger = Logger(service="lakeml-on-approval")


@logger.inject_lambda_context(log_event=True, clear_state=True)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    ports = adapters(load_settings())
    outcome = on_approved(ports.registry, ports.deployer, event)
    logger.info("model package state change handled", extra={"outcome": outcome})
    return outcome
