"""Record every AWS call a runtime makes while it runs "as" one role.

Two sources, because lakeml reaches AWS two ways:
- boto3 clients from `lakeml.core.aws.client` (every adapter but the lake's): `aws.observe` registers a
  botocore `before-parameter-build` hook, which sees the API parameters as the code passed them;
- the lake (`lakeml.core.lake.s3.S3Lake`) is pyarrow's C++ S3 client, which botocore never sees: the
  runtime's endpoint is pointed at `RecordingProxy`, a small reverse proxy in front of the emulator that
  turns each S3 REST request it forwards into the same (operation, params) shape, and ignores the
  requests botocore already reported (their User-Agent says botocore).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import boto3
import urllib3
from werkzeug.datastructures import Headers
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from lakeml.core import aws


@dataclass(frozen=True)
class Call:
    """One AWS API call: `service` is botocore's signing name (the IAM prefix, mostly), `operation` the
    API operation, `params` what the ARN and condition keys are built from."""

    service: str
    operation: str
    params: dict[str, Any]
    region: str
    via: str = "botocore"  # or "s3-http" (pyarrow)

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}"


@dataclass
class RoleRun:
    """The calls recorded while one runtime ran as `role`."""

    role: str
    role_arn: str
    runtime: str = ""
    calls: list[Call] = field(default_factory=list)


class _Sink:
    """Where hooks append; `current` is the run being recorded (None outside `as_role`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: RoleRun | None = None

    def add(self, call: Call) -> None:
        with self.lock:
            if self.current is not None:
                self.current.calls.append(call)


SINK = _Sink()


def _on_botocore_call(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    service = model.service_model.signing_name or model.service_model.endpoint_prefix
    SINK.add(Call(service, model.name, dict(params), str(context.get("client_region") or "")))


# ----------------------------------------------------------------------------------- S3 over HTTP

BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def s3_operation(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Call | None:
    """The S3 API operation of one path-style REST request (what pyarrow sends), or None if it is not S3's."""
    parts = unquote(path).lstrip("/").split("/", 1)
    bucket, key = parts[0], (parts[1] if len(parts) > 1 else "")
    if not BUCKET_NAME.fullmatch(bucket):
        return None  # not S3 (Feature Store's /FeatureGroup/...), or pyarrow's '$extremelyunlikelytoexist$' probe
    q = set(query)
    first = {name: values[0] for name, values in query.items() if values}
    params: dict[str, Any] = {"Bucket": bucket}
    if key:
        params["Key"] = key
    if not key:
        if method == "HEAD":
            op = "HeadBucket"
        elif method == "GET" and "location" in q:
            op = "GetBucketLocation"
        elif method == "GET" and "uploads" in q:
            op = "ListMultipartUploads"
        elif method == "GET" and "versions" in q:
            op = "ListObjectVersions"
        elif method == "GET":
            op = "ListObjectsV2" if first.get("list-type") == "2" else "ListObjects"
            if "prefix" in first:
                params["Prefix"] = first["prefix"]
            if "delimiter" in first:
                params["Delimiter"] = first["delimiter"]
        elif method == "POST" and "delete" in q:
            op = "DeleteObjects"  # the keys are in the body: reported per key by the proxy
        elif method == "PUT":
            op = "CreateBucket"
        elif method == "DELETE":
            op = "DeleteBucket"
        else:
            return None
        return Call("s3", op, params, "", via="s3-http")
    copy_source = headers.get("x-amz-copy-source")
    if method in ("GET", "HEAD"):
        op = "ListParts" if "uploadId" in q else ("GetObject" if method == "GET" else "HeadObject")
        if "versionId" in first:
            params["VersionId"] = first["versionId"]
    elif method == "PUT" and "partNumber" in q:
        op = "UploadPartCopy" if copy_source else "UploadPart"
    elif method == "PUT":
        op = "CopyObject" if copy_source else "PutObject"
    elif method == "POST" and "uploads" in q:
        op = "CreateMultipartUpload"
    elif method == "POST" and "uploadId" in q:
        op = "CompleteMultipartUpload"
    elif method == "DELETE" and "uploadId" in q:
        op = "AbortMultipartUpload"
    elif method == "DELETE":
        op = "DeleteObject"
    else:
        return None
    if copy_source:
        params["CopySource"] = unquote(copy_source.split("?", 1)[0]).lstrip("/")
    return Call("s3", op, params, "", via="s3-http")


def _deleted_keys(body: bytes) -> list[str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(body)
    return [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Key"]


class RecordingProxy:
    """A reverse proxy on 127.0.0.1 in front of the emulator: forwards every request unchanged and
    records the S3 requests that did not come from botocore (pyarrow's). It also answers Feature Store
    PutRecord, the one runtime API lakeml calls that moto lacks."""

    def __init__(self, upstream: str, region: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.region = region
        self.http = urllib3.PoolManager(maxsize=16, retries=False)
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="s3-recorder", daemon=True)

    def __enter__(self) -> RecordingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.http.clear()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        if request.path.startswith("/FeatureGroup/") and request.method == "PUT":
            # sagemaker-featurestore-runtime PutRecord, which moto 5.2.5 lacks: accepted, as the online
            # store does (the call itself was recorded by the botocore hook; its IAM check is ours).
            return Response("{}", status=200, content_type="application/json")(environ, start_response)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "transfer-encoding")}
        headers["Content-Length"] = str(len(body))
        if "botocore" not in request.headers.get("User-Agent", "").lower():
            self._record(request, body)
        # The request target as sent (werkzeug's request.path is decoded: a key holding '%' would change).
        target = self.upstream + (environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path)
        answer = self.http.request(
            request.method, target, body=body, headers=headers, redirect=False, preload_content=True
        )
        passed = [
            (k, v) for k, v in answer.headers.items() if k.lower() not in ("transfer-encoding", "connection")
        ]
        response = Response(answer.data, status=answer.status)
        response.headers = Headers(passed)  # upstream's own Content-Length (a HEAD has no body)
        return response(environ, start_response)

    def _record(self, request: Request, body: bytes) -> None:
        lowered = {k.lower(): v for k, v in request.headers.items()}
        raw_path = (request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or "").split("?", 1)[
            0
        ]
        query = parse_qs(request.query_string.decode(), keep_blank_values=True)
        call = s3_operation(request.method, raw_path or request.path, query, lowered)
        if call is None:
            return
        call = Call(call.service, call.operation, call.params, self.region, call.via)
        if call.operation == "DeleteObjects":
            call.params["Delete"] = {"Objects": [{"Key": key} for key in _deleted_keys(body)]}
        SINK.add(call)


# ------------------------------------------------------------------------------------------- roles


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """Observe every client of `lakeml.core.aws` for the block, and every client made meanwhile from
    boto3's default session (dbt-glue's `boto3.client("glue")`)."""
    stop = aws.observe(_on_botocore_call)
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    default = boto3.DEFAULT_SESSION
    assert default is not None
    default.events.register("before-parameter-build", _on_botocore_call)
    try:
        yield
    finally:
        default.events.unregister("before-parameter-build", _on_botocore_call)
        stop()


@contextlib.contextmanager
def as_role(role: str, role_arn: str, *, runtime: str = "") -> Iterator[RoleRun]:
    """Record the calls made in the block as `role`'s. The credentials stay the emulator's: with an
    assumed role's, moto enforces the lake's DenyInsecureTransport bucket policy, and the emulator
    speaks plain HTTP (the evaluation here is the proof; moto's is not, VERIFIED.md)."""
    run = RoleRun(role, role_arn, runtime)
    with SINK.lock:
        if SINK.current is not None:
            raise RuntimeError(f"already recording as {SINK.current.role}")
        SINK.current = run
    try:
        yield run
    finally:
        with SINK.lock:
            SINK.current = None
