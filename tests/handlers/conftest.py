"""Fixtures of the Lambda handler tests: the documented AWS events under tests/fixtures/events/, and the
context object the Lambda runtime passes (the attributes powertools reads)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"


def event(name: str) -> Any:
    """A fixture event, fresh (tests may change it)."""
    return json.loads((EVENTS / f"{name}.json").read_text())


@dataclass
class FakeLambdaContext:
    function_name: str = "lakeml-test"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-test"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "6f9a2c1e-0000-4000-8000-000000000009"
    log_group_name: str = "/aws/lambda/lakeml-test"
    log_stream_name: str = "2026/11/27/[$LATEST]abc"
