"""How every command reports: one JSON document on stdout with `--json`, Rich text otherwise.

Logs and progress always go to stderr so stdout stays machine-readable. Errors map to exit codes in
one place: 1 when the work failed, 2 for bad usage or configuration.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from lakeml.core.errors import LakemlError

err_console = Console(stderr=True)
out_console = Console()

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout.")


class _State:
    json: bool = False


state = _State()


def want_json(flag: bool) -> bool:
    return flag or state.json


def emit(document: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print the command's result: JSON on stdout, or the human rendering."""
    if want_json(as_json):
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
        sys.stdout.flush()
    elif render is not None:
        render(document)
    else:
        out_console.print_json(json.dumps(document, default=str))


F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(fn: F) -> F:
    """Turn LakemlError into a clear message and the right exit code (JSON too, when asked)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LakemlError as exc:
            if want_json(bool(kwargs.get("as_json"))):
                sys.stdout.write(json.dumps({"error": str(exc), "exit_code": exc.exit_code}) + "\n")
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]
