"""The inference server: SageMaker's container contract (`GET /ping`, `POST /invocations`, port 8080),
the SageMaker Runtime API (`POST /endpoints/{name}/invocations`, see runtime.py) and `GET /stats`.

Starlette on uvicorn with uvloop + httptools (measured fastest here; see bench/bench_serving.py). One
process serves one endpoint: its production variants with weights (or one model dir in the image's
`serve` mode), routing by weight or by the `X-Amzn-SageMaker-Target-Variant` header. Bad input always
gets a 4xx with a message; models are swapped in the background when the endpoint config changes, so
requests in flight finish on the model they started with.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lakeml.core import environ
from lakeml.core.settings import load_settings
from ml_pipelines.serving import endpoint as endpoint_config
from ml_pipelines.serving import runtime
from ml_pipelines.serving.model import LoadedModel, load_model
from ml_pipelines.serving.payload import BadRequest, parse_csv, parse_json
from ml_pipelines.serving.stats import Stats

log = logging.getLogger("lakeml.serving")
MAX_BODY_BYTES = 6 * 1024 * 1024  # SageMaker's real-time payload limit
VARIANT_HEADER = runtime.TARGET_VARIANT
INVOKED_HEADER = runtime.INVOKED_VARIANT


@dataclass(frozen=True)
class Deployed:
    """What the server serves right now; replaced as a whole, never mutated."""

    variants: tuple[tuple[str, LoadedModel, float], ...]
    capture_fraction: float = 0.0
    capture_dir: Path | None = None
    endpoint: str | None = None  # the endpoint's name (None in the image's `serve` mode: any name is it)

    def pick(self, requested: str | None) -> tuple[str, LoadedModel]:
        if requested:
            for name, model, _ in self.variants:
                if name == requested:
                    return name, model
            known = ", ".join(name for name, _, _ in self.variants)
            raise BadRequest(f"{VARIANT_HEADER}: no variant {requested!r}; this endpoint has {known}")
        total = sum(weight for _, _, weight in self.variants)
        point = random.random() * total
        for name, model, weight in self.variants:
            point -= weight
            if point < 0:
                return name, model
        name, model, _ = self.variants[-1]
        return name, model


def load_deployed(
    config_file: Path | None,
    model_dir: Path | None,
    lake_dir: Path | None = None,
    model_version: str | None = None,
) -> Deployed:
    """The endpoint config's variants, or (the image's `serve` mode) the one model in `model_dir`,
    labelled `model_version` (settings.container.model_version) and named as SageMaker names the variant."""
    if config_file is not None:
        config = endpoint_config.read(config_file)
        variants = tuple((v.name, load_model(v.model, v.version), v.weight) for v in config.variants)
        capture = config.data_capture
        destination = (
            Path(capture.destination)
            if capture.destination
            else (lake_dir / "capture" / config.endpoint if lake_dir else None)
        )
        fraction = capture.sampling_percentage / 100 if capture.enabled else 0.0
        return Deployed(variants, fraction, destination, config.endpoint)
    assert model_dir is not None
    variant = environ.platform("SAGEMAKER_VARIANT_NAME") or "AllTraffic"
    return Deployed(((variant, load_model(model_dir, model_version or "image"), 1.0),))


class CaptureWriter:
    """Appends sampled request/response pairs as JSON lines, off the request path."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[Path, dict[str, Any]] | None] = queue.Queue(maxsize=10_000)
        self.thread = threading.Thread(target=self._run, name="data-capture", daemon=True)
        self.thread.start()

    def put(self, folder: Path, record: dict[str, Any]) -> None:
        with contextlib.suppress(queue.Full):  # capture is best effort; serving never waits for it
            self.queue.put_nowait((folder, record))

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            folder, record = item
            day = folder / datetime.now(UTC).strftime("%Y/%m/%d")
            day.mkdir(parents=True, exist_ok=True)
            with open(day / f"capture-{os.getpid()}.jsonl", "a") as handle:
                handle.write(json.dumps(record) + "\n")

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=5)


class Service:
    def __init__(
        self,
        config_file: Path | None,
        model_dir: Path | None,
        lake_dir: Path | None,
        reload_interval: float = 0.25,
        model_version: str | None = None,
    ) -> None:
        self.config_file = config_file
        self.model_dir = model_dir
        self.lake_dir = lake_dir
        self.reload_interval = reload_interval
        self.model_version = model_version
        self.deployed = load_deployed(config_file, model_dir, lake_dir, model_version)
        self.loaded_mtime = self._mtime()
        self.capture = CaptureWriter()
        self.stats = Stats()
        self.reloads = 0

    def _mtime(self) -> float:
        return self.config_file.stat().st_mtime_ns if self.config_file and self.config_file.exists() else 0.0

    async def watch(self) -> None:
        """Swap in a new deployment when the endpoint config changes; a bad one keeps the old serving."""
        while True:
            await asyncio.sleep(self.reload_interval)
            mtime = self._mtime()
            if mtime == self.loaded_mtime:
                continue
            try:
                fresh = await asyncio.to_thread(
                    load_deployed, self.config_file, self.model_dir, self.lake_dir, self.model_version
                )
            except Exception as exc:
                log.error(
                    "new endpoint config %s could not be loaded; still serving the previous models: %s",
                    self.config_file,
                    exc,
                )
                self.loaded_mtime = mtime
                continue
            self.deployed, self.loaded_mtime = fresh, mtime
            self.reloads += 1
            log.info("now serving %s", ", ".join(f"{n}={m.version}" for n, m, _ in fresh.variants))

    async def ping(self, request: Request) -> Response:
        versions = {name: model.version for name, model, _ in self.deployed.variants}
        return JSONResponse({"status": "ok", "variants": versions})

    async def stats_route(self, request: Request) -> Response:
        deployed = self.deployed
        serving = [(name, model.version, weight) for name, model, weight in deployed.variants]
        return JSONResponse(self.stats.snapshot(deployed.endpoint, serving))

    async def invocations(self, request: Request) -> Response:
        """The container contract: errors are `{"error": message}` with the 4xx status."""
        return await self._serve(request, runtime_api=False)

    async def endpoint_invocations(self, request: Request) -> Response:
        """The SageMaker Runtime API's InvokeEndpoint: errors are ValidationError / ModelError."""
        name = request.path_params["name"]
        serving = self.deployed.endpoint
        if serving is not None and name != serving:
            self.stats.rejected += 1
            return runtime.unknown_endpoint(name, serving)
        refused = runtime.unsupported_header(name, request.headers)
        if refused is not None:
            self.stats.rejected += 1
            return refused
        return await self._serve(request, runtime_api=True)

    async def _serve(self, request: Request, runtime_api: bool) -> Response:
        started = time.perf_counter()
        try:
            body = await read_body(request)
            deployed = self.deployed  # one consistent view for the whole request
            variant, model = deployed.pick(request.headers.get(VARIANT_HEADER))
        except BadRequest as exc:
            self.stats.rejected += 1
            if runtime_api:
                return runtime.validation_error(str(exc))
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        try:
            response = self._predict(request, body, deployed, variant, model)
        except BadRequest as exc:
            self.stats.record(variant, started, ok=False)
            if runtime_api:
                return runtime.model_error(exc, variant)
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        self.stats.record(variant, started, ok=True)
        return response

    def _predict(
        self, request: Request, body: bytes, deployed: Deployed, variant: str, model: LoadedModel
    ) -> Response:
        content_type = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
        if content_type == "text/csv":
            rows = parse_csv(body, model.feature_names)
        elif content_type == "application/json":
            rows = parse_json(body, model.feature_names)
        else:
            raise BadRequest(
                f"Content-Type {content_type!r} is not supported; use text/csv or application/json",
                status=415,
            )
        probabilities = model.predict(rows)
        headers = {INVOKED_HEADER: variant, "X-Lakeml-Model-Version": model.version}
        attributes = request.headers.get(runtime.CUSTOM_ATTRIBUTES)
        if attributes is not None:  # SageMaker returns what the container sets; this one echoes the request's
            headers[runtime.CUSTOM_ATTRIBUTES] = attributes
        accept = request.headers.get("accept", "application/json")
        if deployed.capture_fraction and deployed.capture_dir and random.random() < deployed.capture_fraction:
            record = {
                "at": datetime.now(UTC).isoformat(),
                "variant": variant,
                "model_version": model.version,
                "content_type": content_type,
                "request": body.decode("utf-8", "replace"),
                "probabilities": probabilities.tolist(),
            }
            if inference_id := request.headers.get(runtime.INFERENCE_ID):
                record["inference_id"] = inference_id
            self.capture.put(deployed.capture_dir, record)
        if "text/csv" in accept and "application/json" not in accept:
            text = "\n".join(f"{p:.9g}" for p in probabilities) + "\n"
            return Response(text, media_type="text/csv", headers=headers)
        document = {"predictions": probabilities.tolist(), "model_version": model.version, "variant": variant}
        # orjson writes the bytes Starlette's JSONResponse would (compact, shortest float repr), 20 times faster
        return Response(orjson.dumps(document), media_type="application/json", headers=headers)


async def read_body(request: Request) -> bytes:
    """The request body, refused (413) over SageMaker's 6 MB payload limit before it is all read."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        raise BadRequest(
            f"request body over {MAX_BODY_BYTES // (1024 * 1024)} MB; send smaller batches", status=413
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(
                f"request body over {MAX_BODY_BYTES // (1024 * 1024)} MB; send smaller batches", status=413
            )
    return body


def create_app(
    config_file: Path | None = None,
    model_dir: Path | None = None,
    lake_dir: Path | None = None,
    reload_interval: float = 0.25,
    model_version: str | None = None,
    freeze_heap: bool = False,
) -> Starlette:
    """`freeze_heap` (the server process): once everything is imported and loaded, move the heap out of
    the garbage collector's reach (`gc.freeze`), so a collection on the request path walks only what
    requests allocate (xgboost's predict leaves a cycle per call) instead of every module and model."""
    service = Service(config_file, model_dir, lake_dir, reload_interval, model_version)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        watcher = asyncio.create_task(service.watch()) if config_file else None
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if watcher:
                watcher.cancel()
            service.capture.close()

    app = Starlette(
        routes=[
            Route("/ping", service.ping, methods=["GET"]),
            Route("/invocations", service.invocations, methods=["POST"]),
            Route("/endpoints/{name}/invocations", service.endpoint_invocations, methods=["POST"]),
            Route("/stats", service.stats_route, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.service = service
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="lakeml inference server (SageMaker container contract)")
    parser.add_argument("--config", type=Path, help="endpoint config JSON (local endpoints with variants)")
    parser.add_argument(
        "--model", type=Path, help="model dir or model.tar.gz (default: SM_MODEL_DIR or /opt/ml/model)"
    )
    parser.add_argument("--lake", type=Path, help="lake folder (for data capture)")
    parser.add_argument("--host", default=environ.platform("SAGEMAKER_BIND_TO_HOST") or "0.0.0.0")
    parser.add_argument("--port", type=int, default=int(environ.platform("SAGEMAKER_BIND_TO_PORT") or "8080"))
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    import uvicorn

    model_dir = args.model or (
        None if args.config else Path(environ.platform("SM_MODEL_DIR") or "/opt/ml/model")
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    model_version = None if args.config else load_settings().container.model_version
    started = time.monotonic()
    app = create_app(args.config, model_dir, args.lake, model_version=model_version, freeze_heap=True)
    log.info("serving on %s:%d (models loaded in %.2f s)", args.host, args.port, time.monotonic() - started)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=10,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
