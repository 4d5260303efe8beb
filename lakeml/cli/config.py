"""`lakeml config …`: what lakeml will use, with secrets masked, and every setting there is."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console
from lakeml.core.settings import config_file, load_settings, masked, reference

app = typer.Typer(no_args_is_help=True)


def _value(data: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        data = data.get(part) if isinstance(data, dict) else None  # type: ignore[assignment]
    return data


@app.command("show")
@handles_errors
def show(as_json: bool = JSON_OPTION) -> None:
    """Print the effective settings (defaults < lakeml.toml < LAKEML_* env vars); secrets are masked."""
    settings = load_settings()
    values = masked(settings)
    document = {
        "config_file": str(config_file().resolve()),
        "config_file_exists": config_file().is_file(),
        "settings": values,
        "keys": [{**row, "value": _value(values, row["key"])} for row in reference()],
    }

    def render(doc: dict[str, Any]) -> None:
        out_console.print(
            f"config file: {doc['config_file']}"
            f"{'' if doc['config_file_exists'] else ' (absent; defaults and env only)'}"
        )
        table = Table(title="settings")
        for column in ("key", "value", "environment variable", "what"):
            table.add_column(column, overflow="fold")
        for row in doc["keys"]:
            value = row["value"]
            shown = "-" if value is None else str(value)
            if value != row["default"]:
                shown = f"[bold]{shown}[/]"
            table.add_row(row["key"], shown, row["env"], row["description"])
        out_console.print(table)

    emit(document, as_json, render)
