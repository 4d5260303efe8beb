"""What an ingestion invocation asks for: the Lambda event model and its parsing.

Events (direct invoke, Step Functions, EventBridge):
    {}                                         every configured table
    {"tables": ["ORDERS"], "full_refresh": false}
    an EventBridge event                       its `detail` is the request; a scheduled rule's detail is
                                               `{}`, so a "Scheduled Event" ingests every table
A bad event raises `InvalidEvent` naming the field. Library code, so the Lambda entry point
(`lakeml.handlers.ingest`) stays a few lines and the rules are unit-tested without a runtime.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from lakeml.core.errors import UsageError

EXAMPLE_EVENT = '{"tables": ["ORDERS"], "full_refresh": false}'


class InvalidEvent(UsageError):
    """The invocation event is not an ingestion request; the message names each bad field."""


class IngestRequest(BaseModel):
    """What one invocation ingests. No `tables` (or `{}`) means every table in the sources file."""

    model_config = ConfigDict(extra="forbid")

    tables: list[str] | None = Field(None, min_length=1)
    full_refresh: StrictBool = False

    @field_validator("tables")
    @classmethod
    def _configured(cls, tables: list[str] | None, info: ValidationInfo) -> list[str] | None:
        """Upper-cased, repeats dropped, and (given the configured names as context) known."""
        if tables is None:
            return None
        names = [name.strip().upper() for name in tables]
        configured = (info.context or {}).get("configured")
        if configured is not None:
            unknown = [name for name in names if name not in configured]
            if unknown:
                raise ValueError(
                    f"unknown table(s) {', '.join(unknown)}; configured: {', '.join(configured)}"
                )
        return list(dict.fromkeys(names))  # keep order, drop repeats


def parse_event(event: Any, configured: Collection[str]) -> IngestRequest:
    """The request carried by a direct event or an EventBridge envelope, for the `configured` tables;
    InvalidEvent names the field."""
    prefix = ""
    context = {"configured": list(configured)}
    try:
        if isinstance(event, dict) and "detail-type" in event:
            EventBridgeModel.model_validate(event)  # a well-formed envelope (version, id, source, time…)
            prefix = "detail."
            return IngestRequest.model_validate(event["detail"], context=context)
        return IngestRequest.model_validate(event, context=context)
    except ValidationError as exc:
        problems = "; ".join(
            f"{prefix}{'.'.join(str(p) for p in error['loc']) or '(event)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidEvent(
            f"invalid ingestion event: {problems}. Expected {{}} (all tables), {EXAMPLE_EVENT}, or an "
            "EventBridge scheduled event"
        ) from None
