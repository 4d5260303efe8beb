"""`lakeml studio`: the local web app (pipelines, model registry, endpoint, data) on 127.0.0.1.

It reads everything through the ports the wiring picks (`lakeml.wiring.adapters(load_settings())`), so
LAKEML_ENV=aws shows SageMaker and the S3 lake. Approving in it runs the same code as
`lakeml models approve`. Runs until Ctrl-C; with --json, one document saying where it listens is printed
first.
"""

from __future__ import annotations

import socket
import sys

import typer

from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors
from lakeml.core.errors import UsageError
from lakeml.core.settings import load_settings
from lakeml.wiring import adapters


@handles_errors
def studio(
    port: int = typer.Option(8700, min=1, max=65535, help="Port on 127.0.0.1."),
    endpoint_url: str = typer.Option(
        "http://127.0.0.1:8080",
        "--endpoint-url",
        help="Where `lakeml serve` answers: the Endpoint page reads its /stats.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Serve the studio on 127.0.0.1 until Ctrl-C: pipeline graphs, registry approvals, endpoint, data."""
    import uvicorn

    from lakeml.studio.app import create_app

    _check_free(port)
    settings = load_settings()
    app = create_app(settings, adapters(settings), endpoint_url=endpoint_url)
    url = f"http://127.0.0.1:{port}"
    emit(
        {"url": url, "endpoint_url": endpoint_url},
        as_json,
        lambda doc: err_console.print(f"lakeml studio on {doc['url']} (Ctrl-C stops)", highlight=False),
    )
    sys.stdout.flush()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _check_free(port: int) -> None:
    """Fail before starting (exit 2) when something already listens on the port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(
                f"port {port} on 127.0.0.1 is in use (a studio already running?); pass another: "
                f"`lakeml studio --port {port + 1}`"
            ) from None
