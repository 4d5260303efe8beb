"""What every job entry point shares: load the settings, know the container, wire the ports on first use,
and turn an exception into SageMaker's failure file (the reason the console and Describe*Job show)."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import NoReturn

from lakeml.core.settings import Settings, load_settings
from lakeml.wiring import Adapters, adapters
from ml_pipelines.steps.container import Container


@dataclass
class Job:
    settings: Settings
    container: Container

    @cached_property
    def ports(self) -> Adapters:
        """The adapters for this job's settings (built only when a step needs one)."""
        return adapters(self.settings)


JobMain = Callable[[Job, list[str] | None], int]


def run_job(main: JobMain, argv: list[str] | None = None) -> NoReturn:
    """Run a job's main and exit with its code; on failure write `<opt_ml>/output/failure`, exit 1."""
    container = Container()
    try:
        settings = load_settings()
        container = Container.from_settings(settings)
        code = main(Job(settings, container), argv)
    except SystemExit:
        raise
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        container.write_failure(reason)
        print(f"error: {reason}", file=sys.stderr, flush=True)
        sys.exit(1)
    sys.exit(code)
