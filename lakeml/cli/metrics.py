"""`lakeml metrics catalog`: the metric catalog (lakeml.core.metrics) as the JSON Terraform reads.

`--output infra/modules/monitoring/metrics.json` regenerates the committed file the dashboard and the
alarms are built from; a test fails when that file and the catalog differ.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lakeml.cli.output import handles_errors, out_console

app = typer.Typer(no_args_is_help=True)


def render() -> str:
    """The catalog document exactly as committed (stable key order, trailing newline)."""
    from lakeml.core.metrics import document

    return json.dumps(document(), indent=2) + "\n"


@app.command("catalog")
@handles_errors
def catalog(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the JSON here (e.g. infra/modules/monitoring/metrics.json)."
    ),
) -> None:
    """Print (or write) every metric lakeml emits or alarms on, with units, dimensions and alarms."""
    text = render()
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    out_console.print(f"wrote {len(json.loads(text)['metrics'])} metrics to {output}")
