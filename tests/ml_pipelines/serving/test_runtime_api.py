"""`lakeml serve` speaks the SageMaker Runtime API: boto3's `sagemaker-runtime` client and the SageMaker
SDK's `Endpoint.invoke`, pointed at the local endpoint, work unchanged and get what `/invocations` gives.

One real `lakeml serve` process (the CLI, exec'ing the server) on a free 127.0.0.1 port, over a local
endpoint config with two variants; the models are the module's two small boosters (trained once)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

from ml_pipelines.serving import endpoint
from ml_pipelines.serving.stats import percentile
from tests.ml_pipelines.serving.conftest import FEATURES, Client, free_port

pytestmark = pytest.mark.xdist_group("serving_runtime")
REPO = Path(__file__).resolve().parents[3]
ENDPOINT = "lakeml-churn"
REGION = "eu-west-1"
ROWS = np.random.default_rng(11).normal(size=(5, len(FEATURES))).astype(np.float32)
CSV = "\n".join(",".join(repr(float(v)) for v in row) for row in ROWS) + "\n"
JSON = json.dumps({"instances": [dict(zip(FEATURES, map(float, row), strict=True)) for row in ROWS]})
PAYLOADS = {"text/csv": CSV, "application/json": JSON}


class Served:
    def __init__(self, client: Client, announced: dict[str, Any], capture: Path) -> None:
        self.client = client
        self.announced = announced
        self.url = announced["url"]
        self.capture = capture

    def runtime(self, **credentials: str) -> Any:
        """boto3's sagemaker-runtime client, exactly as a user points it at the local endpoint."""
        return boto3.client(
            "sagemaker-runtime",
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id=credentials.get("key", "local"),
            aws_secret_access_key=credentials.get("secret", "local"),
            aws_session_token=credentials.get("token"),
        )

    def stats(self) -> dict[str, Any]:
        status, _, body = self.client.request("GET", "/stats")
        assert status == 200, body
        return json.loads(body)


@pytest.fixture(scope="module")
def served(models, tmp_path_factory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("runtime-api")
    home, capture = root / "lakeml-home", root / "capture"
    config = root / "lakeml.toml"
    config.write_text("# test config: defaults only\n")
    endpoint.write(
        endpoint.config_file(home / "endpoints", ENDPOINT),
        endpoint.EndpointConfig(
            endpoint=ENDPOINT,
            variants=[
                endpoint.Variant(name="blue", model=str(models["blue"]), version="churn/1", weight=1.0),
                endpoint.Variant(name="green", model=str(models["green"]), version="churn/2", weight=1.0),
            ],
            data_capture=endpoint.DataCapture(
                enabled=True, sampling_percentage=100, destination=str(capture)
            ),
        ),
    )
    env = {k: v for k, v in os.environ.items() if k != "LAKEML_ENV"}
    env.update(LAKEML_HOME=str(home), LAKEML_CONFIG=str(config))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lakeml.cli.main", "--json", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1] != "}\n":  # the --json document, printed before the server starts
            line = process.stdout.readline()
            assert line, f"lakeml serve exited before announcing itself (exit {process.poll()})"
            lines.append(line)
        announced = json.loads("".join(lines))
        client = Client(port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, f"lakeml serve exited with {process.returncode}"
            with contextlib.suppress(OSError):
                if client.request("GET", "/ping", timeout=1)[0] == 200:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("lakeml serve did not answer /ping within 60 s")
        yield Served(client, announced, capture)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def container(served: Served, body: str, content_type: str, variant: str, **headers: str) -> bytes:
    """What the container contract's /invocations answers for the same request."""
    status, response_headers, payload = served.client.invoke(
        body, content_type, **{"X-Amzn-SageMaker-Target-Variant": variant, **headers}
    )
    assert status == 200, payload
    assert response_headers["x-amzn-invoked-production-variant"] == variant
    return payload


def test_serve_announces_the_runtime_endpoint_and_the_stats_route(served):
    assert served.announced["invoke_endpoint_url"] == f"{served.url}/endpoints/{ENDPOINT}/invocations"
    assert served.announced["stats_url"] == f"{served.url}/stats"


@pytest.mark.parametrize("content_type", sorted(PAYLOADS))
@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
def test_boto3_invoke_endpoint_answers_what_invocations_answers(served, content_type, accept):
    runtime = served.runtime()
    for variant in ("blue", "green"):
        answer = runtime.invoke_endpoint(
            EndpointName=ENDPOINT,
            Body=PAYLOADS[content_type].encode(),
            ContentType=content_type,
            Accept=accept,
            TargetVariant=variant,
        )
        body = answer["Body"].read()
        assert body == container(served, PAYLOADS[content_type], content_type, variant, Accept=accept)
        assert answer["InvokedProductionVariant"] == variant
        assert answer["ContentType"].startswith(accept)
        if accept == "application/json":
            doc = json.loads(body)
            assert len(doc["predictions"]) == len(ROWS) and doc["variant"] == variant


@pytest.mark.parametrize("content_type", sorted(PAYLOADS))
def test_the_sagemaker_sdk_endpoint_invoke_answers_what_invocations_answers(
    served, monkeypatch, content_type
):
    from sagemaker.core.resources import Endpoint

    # The SDK (v3: sagemaker.core.resources.Endpoint; no Predictor class any more) builds its own
    # sagemaker-runtime client; AWS's service-specific endpoint variable points it at the local server.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", served.url)
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)
    predictor = Endpoint(endpoint_name=ENDPOINT)
    for variant in ("blue", "green"):
        answer = predictor.invoke(
            body=PAYLOADS[content_type].encode(),
            content_type=content_type,
            accept="application/json",
            target_variant=variant,
            custom_attributes="trace=sdk",
            session=session,
            region=REGION,
        )
        assert answer.body.read() == container(served, PAYLOADS[content_type], content_type, variant)
        assert answer.invoked_production_variant == variant
        assert answer.custom_attributes == "trace=sdk"


def test_variant_and_custom_attributes_round_trip(served):
    runtime = served.runtime()
    forced = runtime.invoke_endpoint(
        EndpointName=ENDPOINT, Body=CSV, ContentType="text/csv", TargetVariant="green", CustomAttributes="a=1"
    )
    assert forced["InvokedProductionVariant"] == "green" and forced["CustomAttributes"] == "a=1"
    assert json.loads(forced["Body"].read())["model_version"] == "churn/2"
    routed = [
        runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=CSV, ContentType="text/csv") for _ in range(40)
    ]
    invoked = {r["InvokedProductionVariant"] for r in routed}
    assert invoked == {"blue", "green"}  # weights 1:1; P(one variant 40 times) = 2 * 2**-40
    assert all(json.loads(r["Body"].read())["variant"] == r["InvokedProductionVariant"] for r in routed)
    assert "CustomAttributes" not in routed[0]


def test_an_unknown_endpoint_is_a_validation_error_naming_the_served_one(served):
    with pytest.raises(ClientError) as raised:
        served.runtime().invoke_endpoint(EndpointName="churn-typo", Body=CSV, ContentType="text/csv")
    error = raised.value.response
    assert error["Error"]["Code"] == "ValidationError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"].startswith("Endpoint churn-typo of account local not found.")
    assert f"serves the endpoint '{ENDPOINT}'" in error["Error"]["Message"]
    assert "lakeml serve --endpoint churn-typo" in error["Error"]["Message"]


def test_an_unknown_variant_is_a_validation_error_listing_the_variants(served):
    with pytest.raises(ClientError) as raised:
        served.runtime().invoke_endpoint(
            EndpointName=ENDPOINT, Body=CSV, ContentType="text/csv", TargetVariant="red"
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "no variant 'red'; this endpoint has blue, green" in error["Message"]


def test_a_refused_payload_is_a_model_error_carrying_the_containers_answer(served):
    status, _, original = served.client.invoke("1,2,3\n", "text/csv")
    assert status == 400
    with pytest.raises(ClientError) as raised:
        served.runtime().invoke_endpoint(
            EndpointName=ENDPOINT, Body=b"1,2,3\n", ContentType="text/csv", TargetVariant="blue"
        )
    response = raised.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert response["OriginalStatusCode"] == 400
    assert json.loads(response["OriginalMessage"]) == json.loads(original)
    assert "row 1 has 3 values; the model expects 8" in response["Error"]["Message"]
    with pytest.raises(ClientError) as unsupported:
        served.runtime().invoke_endpoint(EndpointName=ENDPOINT, Body=b"1,2", ContentType="application/xml")
    assert unsupported.value.response["OriginalStatusCode"] == 415


def test_headers_of_features_the_local_endpoint_lacks_are_refused(served):
    with pytest.raises(ClientError) as raised:
        served.runtime().invoke_endpoint(
            EndpointName=ENDPOINT, Body=CSV, ContentType="text/csv", TargetModel="model-a.tar.gz"
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "not a multi-model endpoint" in error["Message"]


def test_sigv4_signed_requests_are_accepted_and_not_checked(served):
    runtime = served.runtime(key="AKIAEXAMPLE", secret="not-checked", token="session-token")
    sent: dict[str, str] = {}
    runtime.meta.events.register(
        "before-send.sagemaker-runtime.InvokeEndpoint",
        lambda request, **_: sent.update(
            {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        ),
    )
    answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=CSV, ContentType="text/csv")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sent["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/")
    assert "x-amz-date" in sent and sent["x-amz-security-token"] == "session-token"


def test_the_inference_id_reaches_data_capture(served):
    served.runtime().invoke_endpoint(
        EndpointName=ENDPOINT, Body=CSV, ContentType="text/csv", InferenceId="order-42"
    )
    deadline, found = time.monotonic() + 10, list[dict[str, Any]]()
    while time.monotonic() < deadline and not found:
        records = [
            json.loads(line) for f in served.capture.rglob("*.jsonl") for line in f.read_text().splitlines()
        ]
        found = [r for r in records if r.get("inference_id") == "order-42"]
        time.sleep(0.05)
    assert len(found) == 1 and len(found[0]["probabilities"]) == len(ROWS)


def test_stats_count_requests_per_variant_on_both_routes(served):
    def by_variant(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {v["variant"]: v for v in doc["variants"]}

    before = served.stats()
    runtime = served.runtime()
    for _ in range(3):
        container(served, CSV, "text/csv", "green")
    for _ in range(2):
        runtime.invoke_endpoint(
            EndpointName=ENDPOINT, Body=CSV, ContentType="text/csv", TargetVariant="green"
        )
    served.client.invoke("1,2\n", "text/csv", **{"X-Amzn-SageMaker-Target-Variant": "green"})  # refused row
    with pytest.raises(ClientError):
        runtime.invoke_endpoint(EndpointName="elsewhere", Body=CSV, ContentType="text/csv")
    after = served.stats()

    assert after["endpoint"] == ENDPOINT
    green, blue = by_variant(after)["green"], by_variant(after)["blue"]
    assert green["requests"] - by_variant(before)["green"]["requests"] == 6
    assert green["errors"] - by_variant(before)["green"]["errors"] == 1
    assert blue["requests"] == by_variant(before)["blue"]["requests"]
    assert after["rejected"] - before["rejected"] == 1
    assert (green["serving"], green["model_version"], green["weight"]) == (True, "churn/2", 1.0)
    recent = green["recent"]
    assert recent["requests"] >= 6 and recent["errors"] >= 1
    assert 0 < recent["latency_ms"]["p50"] <= recent["latency_ms"]["p99"] <= recent["latency_ms"]["max"]


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (50.0, 99.0, 100.0)
    assert percentile([3.0], 0.99) == 3.0 and percentile([], 0.5) is None


def test_the_runtime_route_over_plain_http_unsigned_and_oversized(served):
    path = f"/endpoints/{ENDPOINT}/invocations"
    headers = {"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Variant": "blue"}
    status, response_headers, body = served.client.request("POST", path, CSV, headers)
    assert status == 200 and body == container(served, CSV, "text/csv", "blue")  # no SigV4 needed either
    status, response_headers, body = served.client.request("POST", path, b"1," * (4 * 1024 * 1024), headers)
    assert (status, response_headers["x-amzn-errortype"]) == (400, "ValidationError")
    assert "over 6 MB" in json.loads(body)["message"]
