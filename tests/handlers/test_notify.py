"""The notify Lambda with every event shape it receives: locally the notifications land in the sink
`lakeml notifications` lists; on AWS (moto) they are published to the topic their severity routes to."""

from __future__ import annotations

import json
import uuid

import pytest

from lakeml.core.errors import UsageError
from lakeml.handlers.notify import handler
from lakeml.notify.events import parse
from lakeml.notify.render import message_structure, text
from tests.contract.aws_emulator import client, moto_server
from tests.handlers.conftest import FakeLambdaContext, event

EXPECTED = {  # fixture -> (severity, source, words the subject carries)
    "notify_sfn_failure_lambda": ("critical", "flow:quality", "QualityThresholdExceeded"),
    "notify_sfn_failure_ecs": ("critical", "flow:dbt", "States.TaskFailed"),
    "notify_notification": ("info", "flow", "daily flow succeeded"),
    "notify_pipeline_failed": ("critical", "pipeline:lakeml-training", "failed"),
}


def test_every_fixture_lands_in_the_local_sink_that_lakeml_notifications_lists(home, lakeml) -> None:
    for name in EXPECTED:
        sent = handler(event(name), FakeLambdaContext())
        assert sent["destination"].endswith("#notifications"), sent

    listed = lakeml("--json", "notifications")
    assert listed.code == 0, listed
    got = {n["source"]: n for n in listed.json["notifications"]}
    for severity, source, words in EXPECTED.values():
        assert got[source]["severity"] == severity and words in got[source]["subject"]
    quality = got["flow:quality"]
    assert quality["message"].startswith("data quality below thresholds")  # the Lambda's errorMessage
    assert "quality report" in quality["action"] and quality["links"]["execution"].startswith("https://")


def test_the_email_and_chat_body_is_plain_text_that_says_what_to_do() -> None:
    notification = parse(event("notify_sfn_failure_ecs"))
    body = text(notification)
    assert body.splitlines()[0] == "daily flow failed at dbt: States.TaskFailed"
    assert "Essential container in task exited; exit code 1" in body
    for line in ("stage: dbt", "error: States.TaskFailed", "What to do:", "runs/dbt/latest.json", "Links:"):
        assert line in body, line
    assert "execution: arn:aws:states:eu-west-1:123456789012:execution:lakeml-daily-flow:" in body
    assert "{" not in body  # no JSON for people to read

    structure = json.loads(message_structure(notification))
    assert structure["default"] == structure["email"] == body
    assert json.loads(structure["sqs"])["source"] == "flow:dbt"
    assert len(notification.short_subject()) <= 100


def test_a_bad_event_names_the_shapes_it_accepts(home) -> None:
    with pytest.raises(UsageError, match="Step Functions failure"):
        handler({"stage": "x"}, FakeLambdaContext())


@pytest.fixture(scope="module")
def sns_estate():
    with moto_server() as endpoint:
        sns, sqs = client("sns", endpoint), client("sqs", endpoint)
        topics, queues = {}, {}
        for kind in ("warning", "critical"):
            topics[kind] = sns.create_topic(Name=f"lakeml-{kind}-{uuid.uuid4().hex[:6]}")["TopicArn"]
            url = sqs.create_queue(QueueName=f"q-{kind}-{uuid.uuid4().hex[:6]}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            sns.subscribe(TopicArn=topics[kind], Protocol="sqs", Endpoint=arn)
            queues[kind] = url

        def received(kind: str) -> list[dict]:
            messages = sqs.receive_message(QueueUrl=queues[kind], MaxNumberOfMessages=10).get("Messages", [])
            return [json.loads(m["Body"]) for m in messages]

        yield endpoint, topics, received


def test_on_aws_severity_routes_to_the_topic_and_machines_get_the_json(home, monkeypatch, sns_estate) -> None:
    endpoint, topics, received = sns_estate
    for key, value in {
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__ENDPOINT_URL": endpoint,
        "LAKEML_AWS__WARNING_TOPIC_ARN": topics["warning"],
        "LAKEML_AWS__CRITICAL_TOPIC_ARN": topics["critical"],
    }.items():
        monkeypatch.setenv(key, value)

    failed = handler(event("notify_sfn_failure_lambda"), FakeLambdaContext())
    info = handler(event("notify_notification"), FakeLambdaContext())

    assert failed["destination"] == topics["critical"] and info["destination"] == topics["warning"]
    [critical] = received("critical")
    assert critical["Subject"] == "[lakeml critical] daily flow failed at quality: QualityThresholdExceeded"
    assert json.loads(critical["Message"])["details"]["stage"] == "quality"
    assert critical["MessageAttributes"]["severity"]["Value"] == "critical"
    [warning] = received("warning")
    assert json.loads(warning["Message"])["severity"] == "info"
