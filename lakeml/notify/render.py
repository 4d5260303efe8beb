"""A notification as people read it: a plain-text body for e-mail and chat, JSON for machines.

Why plain text: e-mail clients and chat apps show the SNS message as is, so the body must read well
without markup: what happened, the stage and execution, the error, what to do, and where to look. The
SNS adapter publishes this text as the `default`/`email` message and the notification's JSON to
machine subscribers (SQS, Lambda, email-json), so routing on `severity`/`source` still works.
"""

from __future__ import annotations

import json

from lakeml.notify.port import Notification

MAX_DETAIL = 500  # a value longer than this is cut: the JSON message carries it whole


def text(notification: Notification) -> str:
    """The plain-text body: headline, message, facts, what to do, links, other details."""
    n = notification
    lines = [n.subject, "", n.message.strip() or "(no message)", ""]
    facts = {
        "severity": n.severity,
        "source": n.source,
        "stage": n.details.get("stage"),
        "execution": n.details.get("execution_id"),
        "error": n.details.get("error"),
        "at": n.at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
    }
    lines += [f"{key}: {value}" for key, value in facts.items() if value not in (None, "")]
    if n.action:
        lines += ["", "What to do:", n.action.strip()]
    if n.links:
        lines += ["", "Links:"] + [f"- {name}: {url}" for name, url in n.links.items()]
    rest = {k: v for k, v in n.details.items() if k not in ("stage", "execution_id", "error")}
    if rest:
        lines += ["", "Details:"] + [f"- {key}: {_short(value)}" for key, value in rest.items()]
    return "\n".join(lines) + "\n"


def message_structure(notification: Notification) -> str:
    """SNS `MessageStructure=json`: readable text for people, the notification JSON for machines."""
    body = text(notification)
    machine = notification.model_dump_json()
    return json.dumps(
        {
            "default": body,
            "email": body,
            "sms": notification.short_subject(),
            "email-json": machine,
            "sqs": machine,
            "lambda": machine,
        }
    )


def _short(value: object) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    return shown if len(shown) <= MAX_DETAIL else shown[: MAX_DETAIL - 1] + "…"
