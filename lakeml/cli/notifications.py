"""`lakeml notifications`: what the platform told people, newest first (the local sink; on AWS the
messages went to SNS, and this says which topics)."""

from __future__ import annotations

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters


@handles_errors
def notifications(
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=1000, help="How many to show."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List recent notifications (flow failures, warnings, finished runs)."""
    settings = load_settings()
    recent = adapters(settings).notifier.recent(limit)
    topics = [t for t in (settings.aws.warning_topic_arn, settings.aws.critical_topic_arn) if t]
    document = {"notifications": [n.model_dump(mode="json") for n in recent], "sns_topics": topics}

    def render(doc: dict) -> None:
        if not doc["notifications"]:
            where = f" (they go to SNS: {', '.join(topics)})" if topics else ""
            out_console.print(f"no notifications to show{where}")
            return
        table = Table(title="notifications")
        for column in ("at", "severity", "source", "subject"):
            table.add_column(column)
        for n in doc["notifications"]:
            colour = {"critical": "red", "warning": "yellow"}.get(n["severity"], "green")
            table.add_row(
                n["at"][:19].replace("T", " "), f"[{colour}]{n['severity']}[/]", n["source"], n["subject"]
            )
        out_console.print(table)

    emit(document, as_json, render)
