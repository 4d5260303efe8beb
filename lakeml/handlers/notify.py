"""Lambda entry point of notifications (`lakeml.handlers.notify.handler`): the daily flow's Catch states,
its final success state and the EventBridge rule on SageMaker pipeline status changes invoke it.

Thin on purpose: `lakeml.notify.events.parse` turns the event (a Notification, the Step Functions
failure shape, or a pipeline status change) into one `Notification`, and the notifier port delivers it —
SNS on AWS (critical -> the critical topic, warning and info -> the warning topic), the local sink under
LAKEML_HOME locally (`lakeml notifications` lists it). Returns where it went, so the state machine's
history shows the SNS message id. A delivery failure raises: Step Functions retries the state.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from lakeml.core.settings import load_settings
from lakeml.notify.events import parse
from lakeml.wiring import adapters

logger = Logger(service="lakeml-notify")


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any] | str, context: Any = None) -> dict[str, Any]:
    notification = parse(event)
    sent = adapters(load_settings()).notifier.notify(notification)
    logger.info(
        "notification sent",
        extra={"severity": notification.severity, "source": notification.source, "to": sent.destination},
    )
    return {
        "id": sent.id,
        "destination": sent.destination,
        "severity": notification.severity,
        "subject": notification.subject,
    }
