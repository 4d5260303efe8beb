"""`lakeml flow definition`: the daily flow's Step Functions state machine, rendered from the declaration.

The same `lakeml.flow.stages.STAGES` that `lakeml run` executes locally, as Amazon States Language with
`${...}` placeholders Terraform's `templatefile()` fills (`--output infra/modules/flow/daily_flow.asl.json`
writes the committed file). `--resource NAME=VALUE` puts concrete ARNs in instead (an emulator, a quick
check in the console). Exit 0 written/printed, 1 the file could not be written, 2 bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from lakeml.cli.output import JSON_OPTION, emit, handles_errors, out_console, want_json
from lakeml.core.errors import LakemlError, UsageError

app = typer.Typer(no_args_is_help=True, help="The daily flow: its Step Functions definition.")


@app.command("definition")
@handles_errors
def definition_cmd(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the definition to this file instead of stdout."
    ),
    resource: list[str] = typer.Option(
        [], "--resource", help="NAME=VALUE for a placeholder, e.g. notify_function_arn=arn:... (repeatable)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print (or write) the state machine of the daily flow in Amazon States Language."""
    from lakeml.flow import asl

    names = set(asl.placeholders())
    values: dict[str, str] = {}
    for item in resource:
        name, sep, value = item.partition("=")
        if not sep or name not in names or not value:
            raise UsageError(
                f"--resource {item!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(names))}"
            )
        values[name] = value
    document = asl.definition(values)
    text = asl.to_json(document)
    if output is None:
        if want_json(as_json):
            emit(document, True)
        else:
            sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    except OSError as exc:
        raise LakemlError(f"cannot write {output}: {exc}") from None
    stages = asl.stage_states(document)
    emit(
        {"output": str(output), "states": len(document["States"]), "stages": stages},
        as_json,
        lambda d: out_console.print(
            f"wrote {d['output']}: {d['states']} states, stages {' -> '.join(d['stages'])}", highlight=False
        ),
    )
