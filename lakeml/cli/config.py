"""`lakeml config …`: what lakeml will use, with secrets masked."""

from __future__ import annotations

import typer

from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console
from lakeml.core.settings import config_file, load_settings, masked

app = typer.Typer(no_args_is_help=True)


@app.command("show")
@handles_errors
def show(as_json: bool = JSON_OPTION) -> None:
    """Print the effective settings (defaults < lakeml.toml < LAKEML_* env vars); secrets are masked."""
    settings = load_settings()
    document = {
        "config_file": str(config_file().resolve()),
        "config_file_exists": config_file().is_file(),
        "settings": masked(settings),
    }

    def render(doc: dict) -> None:
        out_console.print(
            f"config file: {doc['config_file']}"
            f"{'' if doc['config_file_exists'] else ' (absent; defaults and env only)'}"
        )
        out_console.print_json(data=doc["settings"])

    emit(document, as_json, render)
