"""AWS adapter of the notifications port: SNS topics (critical -> critical topic, else warning topic).

Published with `MessageStructure=json` (`lakeml.notify.render.message_structure`): e-mail and chat
subscribers get a plain-text body (what happened, stage, error, what to do, links), machine subscribers
(SQS, Lambda, email-json) the notification's JSON so they can route on `severity` and `source`; the
subject is the one-line summary e-mail shows, and `severity`/`source` are also message attributes for
subscription filter policies."""

from __future__ import annotations

from typing import Any

from lakeml.core.aws import error_code
from lakeml.core.errors import ConfigError, LakemlError
from lakeml.notify.port import Notification, Sent
from lakeml.notify.render import message_structure


class SnsNotifier:
    def __init__(self, sns: Any, warning_topic_arn: str | None, critical_topic_arn: str | None) -> None:
        self.sns = sns
        self.topics = {"warning": warning_topic_arn, "critical": critical_topic_arn}

    def _topic(self, notification: Notification) -> str:
        kind = "critical" if notification.severity == "critical" else "warning"
        topic = self.topics[kind] or self.topics["critical" if kind == "warning" else "warning"]
        if not topic:
            raise ConfigError(
                f"no SNS topic for {notification.severity} notifications; set LAKEML_AWS__{kind.upper()}_TOPIC_ARN "
                "(`terraform output lakeml` prints it)"
            )
        return topic

    def notify(self, notification: Notification) -> Sent:
        topic = self._topic(notification)
        try:
            response = self.sns.publish(
                TopicArn=topic,
                Subject=notification.short_subject(),
                Message=message_structure(notification),
                MessageStructure="json",
                MessageAttributes={
                    "severity": {"DataType": "String", "StringValue": notification.severity},
                    "source": {"DataType": "String", "StringValue": notification.source},
                },
            )
        except Exception as exc:
            code = error_code(exc) or type(exc).__name__
            hint = (
                " (grant sns:Publish on it, and kms:GenerateDataKey on its key)" if "Denied" in code else ""
            )
            raise LakemlError(f"cannot publish to SNS topic {topic}: {code}{hint}") from None
        return Sent(id=str(response["MessageId"]), destination=topic)

    def recent(self, limit: int = 20) -> list[Notification]:
        return []  # SNS keeps nothing to read back: subscribers receive the messages
