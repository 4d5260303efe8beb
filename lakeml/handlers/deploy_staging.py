"""Lambda entry point of the pipeline's DeployStaging step: wire the registry and the deployer, deploy.

Thin on purpose: `ml_pipelines.steps.deploy.deploy_staging` validates the event and does the work; the
local runner maps the pipeline's Lambda to this same `handler` ("lakeml.handlers.deploy_staging:handler"),
so a local pipeline run deploys through the code the Lambda runs. The LambdaStep's outputs are the
returned keys: `status`, `endpoint_name`, `model_package_arn`.

`python -m lakeml.handlers.deploy_staging --event '{…}'` runs one event by hand (exit 2 on a bad event).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lakeml.core.errors import LakemlError
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters
from ml_pipelines.steps.deploy import deploy_staging


def handler(event: dict[str, Any] | str, context: Any = None) -> dict[str, Any]:
    ports = adapters(load_settings())
    return deploy_staging(ports.registry, ports.deployer, event)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lakeml.handlers.deploy_staging",
        description="Deploy a registered model version to an endpoint (the DeployStaging Lambda).",
    )
    parser.add_argument("--event", required=True, help="the Lambda event as JSON")
    args = parser.parse_args(argv)
    try:
        print(json.dumps(handler(args.event)))
    except LakemlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
