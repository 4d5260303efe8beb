"""`lakeml serve`: the local endpoint — the same server the image runs, over the local endpoint config.

It answers the container contract (`/ping`, `/invocations`), the SageMaker Runtime API
(`POST /endpoints/<endpoint>/invocations`: boto3's `sagemaker-runtime` client with `endpoint_url`) and
`GET /stats` (request counts and latency per variant)."""

from __future__ import annotations

import os
import sys

import typer

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors
from lakeml.core.errors import UsageError
from lakeml.core.settings import load_settings


@handles_errors
def serve(
    port: int = typer.Option(8080, min=1, max=65535, help="Port on 127.0.0.1 (SageMaker's is 8080)."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind; 0.0.0.0 exposes it to the network."),
    endpoint: str = typer.Option("lakeml-churn", help="Local endpoint to serve."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Serve the approved model until Ctrl-C (reloads on approve/rollback): /ping, /invocations, the
    SageMaker Runtime API at /endpoints/<endpoint>/invocations, and /stats."""
    from ml_pipelines.serving import endpoint as endpoint_config

    settings = load_settings()
    config = endpoint_config.config_path(settings, endpoint)
    if not config.is_file():
        raise UsageError(
            f"nothing is deployed on the local endpoint {endpoint!r}; approve a version first: "
            "`lakeml models list` then `lakeml models approve --version N --reason '…'`"
        )
    variants = endpoint_config.read(config).variants
    emit(
        {
            "endpoint": endpoint,
            "url": f"http://{host}:{port}",
            "invoke_endpoint_url": f"http://{host}:{port}/endpoints/{endpoint}/invocations",
            "stats_url": f"http://{host}:{port}/stats",
            "variants": [v.model_dump() for v in variants],
        },
        as_json,
        lambda doc: err_console.print(
            f"serving {', '.join(v['version'] for v in doc['variants'])} on {doc['url']} (Ctrl-C stops); "
            f"boto3: client('sagemaker-runtime', endpoint_url='{doc['url']}')"
            f".invoke_endpoint(EndpointName='{endpoint}', …)"
        ),
    )
    sys.stdout.flush()
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "ml_pipelines.serving.server",
            "--config",
            str(config),
            "--lake",
            str(settings.lake_dir),
            "--host",
            host,
            "--port",
            str(port),
        ],
    )
