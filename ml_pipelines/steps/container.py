"""SageMaker's container contract, with the `/opt/ml` root overridable for the local runner.

SageMaker mounts job data under `/opt/ml`; the local runner maps that to a per-job folder and sets
`LAKEML_CONTAINER__OPT_ML` (settings.container.opt_ml), rewriting `SM_*` variables and arguments that
start with `/opt/ml`. Steps never hard-code `/opt/ml`: they ask a `Container`, so the same code runs in
the image and on a laptop. The variables SageMaker itself sets (SM_*, TRAINING_JOB_NAME) are platform
variables, read through `lakeml.core.environ`.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeml.core import environ

if TYPE_CHECKING:
    from lakeml.core.settings import Settings

FAILURE_FILE = ("output", "failure")  # what the console and Describe*Job show as the failure reason
FAILURE_LIMIT = 1000


@dataclass(frozen=True)
class Container:
    opt_ml: Path = Path("/opt/ml")
    baked_git_sha: str | None = None  # written into the image at build time

    @classmethod
    def from_settings(cls, settings: Settings) -> Container:
        return cls(opt_ml=settings.container.opt_ml, baked_git_sha=settings.container.git_sha)

    def processing(self, *parts: str) -> str:
        """Default path of a processing input/output, e.g. processing("input", "test")."""
        return str(self.opt_ml.joinpath("processing", *parts))

    def sm_path(self, variable: str, *default: str) -> Path:
        """A training path from SageMaker's `SM_*` variable, defaulting under the container root."""
        value = environ.platform(variable)
        return Path(value) if value else self.opt_ml.joinpath(*default)

    def git_sha(self) -> str:
        """Commit the code came from: baked into the image, else asked of git, else unknown."""
        if self.baked_git_sha:
            return self.baked_git_sha
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

    def write_failure(self, reason: str) -> None:
        """SageMaker's failure file; best effort (the job is failing already)."""
        failure = self.opt_ml.joinpath(*FAILURE_FILE)
        try:
            failure.parent.mkdir(parents=True, exist_ok=True)
            failure.write_text(reason[:FAILURE_LIMIT])
        except OSError:
            pass


def training_job_name() -> str:
    """SageMaker's name of the running training job ('local' outside one)."""
    return environ.platform("TRAINING_JOB_NAME") or "local"


def cpus() -> int | None:
    """The vCPUs SageMaker gives the job (the local runner: this job's share of the machine)."""
    value = environ.platform("SM_NUM_CPUS")
    return int(value) if value else None


def write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
