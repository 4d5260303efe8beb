"""SageMaker's container contract, with every `/opt/ml` root overridable for the local runner.

SageMaker mounts job data under `/opt/ml`; the local runner maps that to a per-job folder and sets
`LAKEML_CONTAINER__OPT_ML` (and rewrites `SM_*` variables and arguments that start with `/opt/ml`). Steps never
hard-code `/opt/ml`: they ask this module, so the same code runs in the image and on a laptop.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

OPT_ML_ENV = "LAKEML_CONTAINER__OPT_ML"
GIT_SHA_ENV = "LAKEML_CONTAINER__GIT_SHA"


def opt_ml() -> Path:
    """The container root: `$LAKEML_CONTAINER__OPT_ML` when the local runner maps it, else `/opt/ml`."""
    return Path(os.environ.get(OPT_ML_ENV) or "/opt/ml")


def processing(*parts: str) -> str:
    """Default path of a processing input/output, e.g. processing("input", "test")."""
    return str(opt_ml().joinpath("processing", *parts))


def env_path(variable: str, *default: str) -> Path:
    """A training path from SageMaker's `SM_*` variable, defaulting under the container root."""
    value = os.environ.get(variable)
    return Path(value) if value else opt_ml().joinpath(*default)


def write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")


def git_sha() -> str:
    """Commit the code came from: baked into the image as $LAKEML_CONTAINER__GIT_SHA, else asked of git, else unknown."""
    baked = os.environ.get(GIT_SHA_ENV)
    if baked:
        return baked
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def run_main(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> None:
    """Run a step's main; on failure write SageMaker's `/opt/ml/output/failure` file (the reason the
    console and DescribeJob show) and exit non-zero."""
    try:
        code = main(argv)
    except SystemExit:
        raise
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        failure = opt_ml() / "output" / "failure"
        try:
            failure.parent.mkdir(parents=True, exist_ok=True)
            failure.write_text(reason[:1000])
        except OSError:
            pass
        print(f"error: {reason}", file=sys.stderr, flush=True)
        sys.exit(1)
    sys.exit(code)
