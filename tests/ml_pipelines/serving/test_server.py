"""The inference server over real HTTP on 127.0.0.1: contract, formats, validation, variants, reload."""

from __future__ import annotations

import json
import signal
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ml_pipelines.serving import endpoint
from ml_pipelines.serving.model import load_model
from tests.ml_pipelines.serving.conftest import FEATURES, serve

pytestmark = pytest.mark.xdist_group("serving")
ROWS = np.random.default_rng(7).normal(size=(100, len(FEATURES))).astype(np.float32)


def csv(rows: np.ndarray) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows) + "\n"


@pytest.fixture(scope="module")
def server(models):
    with serve("--model", str(models["blue"])) as (client, _process):
        yield client


def expected(models, rows):
    return load_model(models["blue"]).predict(rows).tolist()


def test_ping_answers_with_the_variant(server):
    status, _, body = server.request("GET", "/ping")
    assert status == 200
    assert json.loads(body)["variants"] == {"AllTraffic": "image"}


def test_csv_single_row_equals_in_process_prediction_exactly(server, models):
    doc = server.json(csv(ROWS[:1]))
    assert doc["predictions"] == expected(models, ROWS[:1])
    assert doc["variant"] == "AllTraffic"


def test_csv_batch_and_csv_response(server, models):
    status, headers, body = server.invoke(csv(ROWS), Accept="text/csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert headers["x-amzn-invoked-production-variant"] == "AllTraffic"
    assert np.allclose([float(v) for v in body.decode().split()], expected(models, ROWS), rtol=0, atol=1e-8)


def test_json_ordered_named_and_single_forms(server, models):
    want = expected(models, ROWS[:3])
    assert (
        server.json(json.dumps({"instances": ROWS[:3].tolist()}), "application/json")["predictions"] == want
    )
    named = [dict(zip(FEATURES, map(float, row), strict=True)) for row in ROWS[:3]]
    assert server.json(json.dumps({"instances": named}), "application/json")["predictions"] == want
    assert server.json(json.dumps(named[0]), "application/json")["predictions"] == want[:1]


def test_missing_values_are_nan_as_xgboost_expects(server, models):
    row = ROWS[:1].copy()
    row[0, 2] = np.nan
    line = ",".join("" if np.isnan(v) else repr(float(v)) for v in row[0])
    assert server.json(line)["predictions"] == expected(models, row)
    named = {**dict(zip(FEATURES, map(float, row[0]), strict=True)), FEATURES[2]: None}
    assert server.json(json.dumps(named), "application/json")["predictions"] == expected(models, row)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("1,2,3\n", "text/csv", 400, "row 1 has 3 values; the model expects 8"),
        ("1,2,3,4,5,6,7,abc\n", "text/csv", 400, "column 8 (feature_7): 'abc' is not a number"),
        ("1,2,3,4,5,6,7,inf\n", "text/csv", 400, "infinite values are not accepted"),
        ("", "text/csv", 400, "the CSV body has no rows"),
        ("{not json", "application/json", 400, "not valid JSON"),
        ('{"instances": [{"feature_0": 1}]}', "application/json", 400, "missing feature(s) feature_1"),
        ('{"instances": [{"colour": 1}]}', "application/json", 400, "unknown feature(s) colour"),
        ('{"instances": [[true, 1, 2, 3, 4, 5, 6, 7]]}', "application/json", 400, "true is not a number"),
        ("1,2", "application/xml", 415, "Content-Type 'application/xml' is not supported"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_clear_message(server, body, content_type, status, message):
    code, _, payload = server.invoke(body, content_type)
    assert code == status
    assert message in json.loads(payload)["error"]


def test_oversized_body_is_413(server):
    code, _, payload = server.invoke(b"1," * (4 * 1024 * 1024))
    assert code == 413 and "over 6 MB" in json.loads(payload)["error"]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.lists(st.one_of(st.floats(), st.text(max_size=5), st.none(), st.booleans()), max_size=12).map(
            lambda v: json.dumps({"instances": [v]}).encode()
        ),
    ),
    content_type=st.sampled_from(
        ["text/csv", "application/json", "text/plain", "application/json; charset=utf-8"]
    ),
)
def test_fuzzed_malformed_requests_never_get_a_5xx(server, body, content_type):
    code, _, _ = server.invoke(body, content_type)
    assert code < 500


def test_server_is_healthy_after_the_fuzz(server, models):
    assert server.request("GET", "/ping")[0] == 200
    assert server.json(csv(ROWS[:1]))["predictions"] == expected(models, ROWS[:1])


def two_variants(tmp_path, models, blue_weight=3.0, green_weight=1.0, capture=False):
    path = tmp_path / "endpoint.json"
    endpoint.write(
        path,
        endpoint.EndpointConfig(
            variants=[
                endpoint.Variant(
                    name="blue", model=str(models["blue"]), version="churn/1", weight=blue_weight
                ),
                endpoint.Variant(
                    name="green", model=str(models["green"]), version="churn/2", weight=green_weight
                ),
            ],
            data_capture=endpoint.DataCapture(
                enabled=capture, sampling_percentage=100, destination=str(tmp_path / "capture")
            ),
        ),
    )
    return path


def test_variants_route_by_weight_and_honour_the_target_header(tmp_path, models):
    with serve("--config", str(two_variants(tmp_path, models))) as (client, _):
        seen = [client.json(csv(ROWS[:1]))["variant"] for _ in range(400)]
        assert 0.65 < seen.count("blue") / len(seen) < 0.85
        forced = client.json(csv(ROWS[:1]), **{"X-Amzn-SageMaker-Target-Variant": "green"})
        assert forced["variant"] == "green" and forced["model_version"] == "churn/2"
        code, _, payload = client.invoke(csv(ROWS[:1]), **{"X-Amzn-SageMaker-Target-Variant": "red"})
        assert code == 400 and "no variant 'red'" in json.loads(payload)["error"]


def test_data_capture_appends_sampled_pairs_as_json_lines(tmp_path, models):
    with serve("--config", str(two_variants(tmp_path, models, capture=True))) as (client, _):
        for _ in range(5):
            client.json(csv(ROWS[:2]))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not list((tmp_path / "capture").rglob("*.jsonl")):
            time.sleep(0.1)
        time.sleep(0.3)
        lines = [
            json.loads(line)
            for f in (tmp_path / "capture").rglob("*.jsonl")
            for line in f.read_text().splitlines()
        ]
    assert len(lines) == 5 and all(
        len(r["probabilities"]) == 2 and r["variant"] in ("blue", "green") for r in lines
    )


def test_hot_reload_under_traffic_drops_no_request(tmp_path, models):
    path = two_variants(tmp_path, models, blue_weight=1.0, green_weight=0.0)
    with serve("--config", str(path)) as (client, _):
        failures, versions, stop = [], set(), threading.Event()

        def traffic() -> None:
            while not stop.is_set():
                code, _, payload = client.invoke(csv(ROWS[:5]))
                if code != 200:
                    failures.append((code, payload))
                else:
                    versions.add(json.loads(payload)["model_version"])

        workers = [threading.Thread(target=traffic) for _ in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        endpoint.write(
            path,
            endpoint.EndpointConfig(
                variants=[
                    endpoint.Variant(name="green", model=str(models["green"]), version="churn/2", weight=1.0)
                ]
            ),
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and client.json(csv(ROWS[:1]))["model_version"] != "churn/2":
            time.sleep(0.05)
        time.sleep(0.3)
        stop.set()
        for worker in workers:
            worker.join()
    assert failures == []
    assert versions == {"churn/1", "churn/2"}


def test_a_broken_new_config_keeps_the_previous_model_serving(tmp_path, models):
    path = two_variants(tmp_path, models)
    with serve("--config", str(path)) as (client, _):
        endpoint.write(
            path,
            endpoint.EndpointConfig(
                variants=[
                    endpoint.Variant(name="blue", model=str(tmp_path / "missing-model"), version="churn/9")
                ]
            ),
        )
        time.sleep(1.0)
        assert (
            client.json(csv(ROWS[:1]), **{"X-Amzn-SageMaker-Target-Variant": "blue"})["model_version"]
            == "churn/1"
        )


def test_sigterm_stops_gracefully(models):
    with serve("--model", str(models["blue"])) as (client, process):
        assert client.request("GET", "/ping")[0] == 200
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
        output = process.stdout.read().decode() if process.stdout else ""
    # uvicorn finishes in-flight requests, runs shutdown, then re-raises SIGTERM for the parent to see.
    assert code in (0, -signal.SIGTERM), output
    assert "Shutting down" in output and "Finished server process" in output
