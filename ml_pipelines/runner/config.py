"""How the local runner maps AWS things to this machine: S3 URIs to folders, the image's commands to
Python modules, Lambda functions to local handlers. One object, built from settings, passed to the engine.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from lakeml.core.settings import Settings
from ml_pipelines.runner.errors import DefinitionError

# What the one image runs for SageMaker's implicit commands (training images are started as `train`);
# the Dockerfile writes the same commands to /usr/local/bin.
IMAGE_COMMANDS: dict[str, list[str]] = {
    "train": ["-m", "lakeml.jobs.train"],
    "serve": ["-m", "ml_pipelines.serving.server"],
}
# Lambda function name (last part of the ARN, prefix match) -> "module:function".
LAMBDA_HANDLERS: dict[str, str] = {
    "lakeml-deploy": "lakeml.handlers.deploy_staging:handler",
}


@dataclass
class RunnerConfig:
    home: Path  # LAKEML_HOME
    lake_dir: Path
    lake_buckets: set[str] = field(default_factory=set)  # buckets that map to the lake folder
    lambda_handlers: dict[str, str] = field(default_factory=lambda: dict(LAMBDA_HANDLERS))
    python: str = sys.executable
    job_processes: str = "warm"  # warm: jobs run in reused worker processes (`workers`); fresh: one each
    workers: int | None = None  # size of the warm pool; None: this machine's cores

    @classmethod
    def from_settings(cls, settings: Settings) -> RunnerConfig:
        buckets = {"lakeml-lake"}
        if settings.aws.lake_bucket:
            buckets.add(settings.aws.lake_bucket)
        return cls(
            home=settings.home,
            lake_dir=settings.lake_dir,
            lake_buckets=buckets,
            job_processes=settings.runner.job_processes,
            workers=settings.runner.workers,
        )

    @property
    def pipelines_dir(self) -> Path:
        return self.home / "pipelines"

    def local_path(self, uri: str) -> Path:
        """s3://<lake bucket>/key -> <lake>/key; other buckets -> <home>/s3/<bucket>/key; file:// and paths as is."""
        parsed = urlparse(str(uri))
        if parsed.scheme == "s3":
            key = parsed.path.lstrip("/")
            base = self.lake_dir if parsed.netloc in self.lake_buckets else self.home / "s3" / parsed.netloc
            return base / key
        if parsed.scheme == "file":
            return Path(parsed.path)
        if parsed.scheme == "":
            return Path(uri)
        raise DefinitionError(
            f"URI {uri!r}: scheme {parsed.scheme!r} cannot be mapped locally; use s3:// or a path"
        )

    def command(self, entrypoint: list[str], arguments: list[str]) -> list[str]:
        """The image's command line, run by this machine's Python."""
        if not entrypoint:
            raise DefinitionError("a job has no command: set ContainerEntrypoint, or use the image's `train`")
        head, *rest = entrypoint
        if Path(head).name in ("python", "python3", "python3.11"):
            return [self.python, *rest, *arguments]
        if head in IMAGE_COMMANDS and not rest:
            return [self.python, *IMAGE_COMMANDS[head], *arguments]
        raise DefinitionError(
            f"command {head!r} is not one the image provides locally; use python -m <module> "
            f"or one of {', '.join(IMAGE_COMMANDS)}"
        )

    def lambda_handler(self, function_arn: str) -> str:
        name = function_arn.rsplit(":function:", 1)[-1].split(":")[0]
        for prefix, handler in self.lambda_handlers.items():
            if name.startswith(prefix):
                return handler
        raise DefinitionError(
            f"Lambda function {name!r} has no local handler; known prefixes: "
            f"{', '.join(self.lambda_handlers)} (see ml_pipelines/runner/config.py)"
        )
