"""The notifications port: how the platform tells people that something needs them.

A notification has a severity that routes it: `critical` when work failed and someone must act (a flow
stage failed, a deploy rolled back), `warning` when work finished but something looks wrong (rows
quarantined, a challenger did not beat the champion), `info` for routine news (a flow finished). The
local adapter keeps them in a sink under LAKEML_HOME that `lakeml notifications` lists; the AWS adapter
publishes to the SNS topics infra creates (critical -> the critical topic, the rest -> the warning
topic). `tests/contract/test_notifier.py` runs the same cases against both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

Severity = Literal["info", "warning", "critical"]
MAX_SUBJECT = 100  # SNS refuses longer subjects


class Notification(BaseModel):
    """One message. `source` names what sent it (e.g. `flow:transform`); `details` is JSON-able context."""

    severity: Severity
    subject: str = Field(min_length=1)
    message: str
    source: str = "lakeml"
    details: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # What the reader should do next, and where to look (name -> URL or lake URI): rendered as their
    # own paragraphs in e-mail and chat, so a failure message is actionable without opening a console.
    action: str = ""
    links: dict[str, str] = Field(default_factory=dict)

    def short_subject(self) -> str:
        """The subject as SNS accepts it: ASCII printable, one line, at most 100 characters."""
        text = " ".join(self.subject.split())
        text = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
        prefix = f"[lakeml {self.severity}] "
        return (prefix + text)[:MAX_SUBJECT]


class Sent(BaseModel):
    """Where a notification went: the sink's id locally, the SNS message id and topic on AWS."""

    id: str
    destination: str


class Notifier(Protocol):
    def notify(self, notification: Notification) -> Sent:
        """Deliver one notification; raise LakemlError naming the destination when it cannot."""
        ...

    def recent(self, limit: int = 20) -> list[Notification]:
        """The latest notifications this adapter can read back, newest first (empty where the
        destination is write-only, as SNS is)."""
        ...
