"""The notifications contract, run against both adapters: the local sink and SNS (moto server, read
through an SQS queue subscribed to each topic, as a real subscriber would)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lakeml.core import aws
from lakeml.core.errors import ConfigError
from lakeml.notify.local import LocalNotifier
from lakeml.notify.port import Notification, Notifier
from lakeml.notify.sns import SnsNotifier
from tests.contract.aws_emulator import REGION, client


@dataclass
class Harness:
    notifier: Notifier
    delivered: Callable[[str], list[dict[str, Any]]]  # severity route -> notifications as JSON


def _sqs_subscriber(endpoint: str, topic_arn: str) -> Callable[[], list[dict[str, Any]]]:
    sqs, sns = client("sqs", endpoint), client("sns", endpoint)
    queue_url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    def read() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        envelopes = [json.loads(m["Body"]) for m in messages]
        return [{**json.loads(e["Message"]), "_subject": e.get("Subject")} for e in envelopes]

    return read


@pytest.fixture(params=["local", "sns"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "local":
        local = LocalNotifier(tmp_path / "state.db")

        def from_sink(route: str) -> list[dict[str, Any]]:
            wanted = {"critical"} if route == "critical" else {"info", "warning"}
            return [n.model_dump(mode="json") for n in reversed(local.recent(50)) if n.severity in wanted]

        return Harness(local, from_sink)
    endpoint = request.getfixturevalue("aws_endpoint")
    sns = client("sns", endpoint)
    topics = {
        kind: sns.create_topic(Name=f"lakeml-{kind}-{uuid.uuid4().hex[:8]}")["TopicArn"]
        for kind in ("warning", "critical")
    }
    readers = {kind: _sqs_subscriber(endpoint, arn) for kind, arn in topics.items()}
    notifier = SnsNotifier(aws.client("sns", REGION, endpoint), topics["warning"], topics["critical"])
    return Harness(notifier, lambda route: readers[route]())


def test_a_critical_notification_reaches_the_critical_route_with_its_details(harness: Harness) -> None:
    sent = harness.notifier.notify(
        Notification(
            severity="critical",
            subject="stage transform failed",
            message="dbt build failed: silver.orders",
            source="flow:transform",
            details={"failed": ["orders"]},
        )
    )

    assert sent.id and sent.destination
    [got] = harness.delivered("critical")
    assert got["subject"] == "stage transform failed"
    assert got["source"] == "flow:transform"
    assert got["details"] == {"failed": ["orders"]}
    assert harness.delivered("warning") == []


def test_warnings_and_info_share_the_warning_route_in_order(harness: Harness) -> None:
    harness.notifier.notify(Notification(severity="warning", subject="rows quarantined", message="12 rows"))
    harness.notifier.notify(Notification(severity="info", subject="flow finished", message="ok"))

    got = harness.delivered("warning")
    assert [n["severity"] for n in got] == ["warning", "info"]
    assert harness.delivered("critical") == []


def test_a_long_multiline_subject_is_delivered_as_one_short_line() -> None:
    subject = Notification(severity="warning", subject="é" * 30 + "\nsecond line " + "x" * 200, message="m")
    short = subject.short_subject()
    assert len(short) <= 100 and "\n" not in short and short.isascii()
    assert short.startswith("[lakeml warning] ")


def test_sns_without_a_topic_names_the_setting_to_set() -> None:
    notifier = SnsNotifier(sns=None, warning_topic_arn=None, critical_topic_arn=None)
    with pytest.raises(ConfigError, match="LAKEML_AWS__CRITICAL_TOPIC_ARN"):
        notifier.notify(Notification(severity="critical", subject="s", message="m"))
