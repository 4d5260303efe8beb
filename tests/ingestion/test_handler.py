"""The Lambda handler end to end: moto (S3, DynamoDB, Secrets Manager) + the local fakesnow server.

The only thing not real is where AWS answers from: the handler reads its settings from the environment
as in Lambda, takes the Snowflake credentials from Secrets Manager, connects with the real connector,
lands parquet + manifests in the bucket and advances watermarks with DynamoDB conditional writes.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingestion.watermarks.dynamo import DynamoWatermarkStore
from lakeml.core.settings import Settings
from tests.contract.aws_emulator import (
    REGION,
    client,
    create_bucket,
    create_secret,
    create_watermark_table,
    moto_server,
)
from tests.ingestion.conftest import build_extraction_views

pytestmark = [pytest.mark.xdist_group("ingestion-handler"), pytest.mark.slow]

CANARY = "canary-5nowfl4ke-Pw-91d2e7"  # the source password; must never be printed or logged
TABLES = ("CUSTOMERS", "PRODUCTS", "ORDERS", "ORDER_ITEMS", "SUPPORT_TICKETS")
SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-27T03:00:00Z",
    "region": REGION,
    "resources": ["arn:aws:events:eu-west-1:123456789012:rule/lakeml-ingest-daily"],
    "detail": {},
}


@dataclass
class FakeLambdaContext:
    """The attributes of the runtime's context object that powertools reads."""

    function_name: str = "lakeml-ingest"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-ingest"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "6f9a2c1e-0000-4000-8000-000000000001"
    log_group_name: str = "/aws/lambda/lakeml-ingest"
    log_stream_name: str = "2026/11/27/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@dataclass(frozen=True)
class World:
    endpoint: str
    home: Path
    config: Path
    secret_id: str
    source_counts: dict[str, int]
    sources: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One moto server and one seeded fakesnow server for the module; the secret holds the credentials."""
    from lakeml.twins.snowflake import server
    from lakeml.twins.snowflake.connection import connect
    from lakeml.twins.snowflake.generator import SeedConfig, seed, table_counts

    home = tmp_path_factory.mktemp("handler-home")
    config = home / "lakeml.toml"
    config.write_text("# test config: defaults only\n")
    # The packaged sources file with no lag, so one run takes every seeded row (the lag has its own tests).
    packaged = (Path(__file__).resolve().parents[2] / "ingestion" / "sources.yml").read_text()
    assert "lag_seconds: 300" in packaged
    sources = home / "sources.yml"
    sources.write_text(packaged.replace("lag_seconds: 300", "lag_seconds: 0"))
    local = Settings(home=home)
    info = server.ensure_running(local)
    try:
        conn = connect(local)
        try:
            seed(conn, SeedConfig(customers=300, days=60))
            counts = table_counts(conn)
        finally:
            conn.close()
        build_extraction_views(home, config)  # what the packaged sources file reads
        with moto_server() as endpoint:
            secret_id = f"lakeml/snowflake/{uuid.uuid4().hex[:8]}"
            create_secret(
                endpoint,
                secret_id,
                {
                    "account": "lakeml_local",
                    "user": "lakeml",
                    "password": CANARY,
                    "host": info.host,
                    "port": info.port,
                    "protocol": "http",
                    "database": "RETAIL",
                    "schema": "RAW",
                },
            )
            yield World(endpoint, home, config, secret_id, counts, sources)
    finally:
        from ingestion.source.kept import close_kept

        close_kept()
        server.stop(local)


@dataclass(frozen=True)
class Lambda:
    """One deployment: its own bucket and watermark table, settings from the environment as in Lambda."""

    bucket: str
    watermark_table: str
    endpoint: str

    def watermarks(self) -> DynamoWatermarkStore:
        return DynamoWatermarkStore(self.watermark_table, region=REGION, endpoint_url=self.endpoint)

    def keys(self, prefix: str) -> list[str]:
        s3 = client("s3", self.endpoint)
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def read_json(self, key: str) -> Any:
        return json.loads(client("s3", self.endpoint).get_object(Bucket=self.bucket, Key=key)["Body"].read())


@pytest.fixture
def deployment(world: World, monkeypatch: pytest.MonkeyPatch) -> Lambda:
    suffix = uuid.uuid4().hex[:8]
    deployed = Lambda(f"lakeml-lake-{suffix}", f"lakeml-watermarks-{suffix}", world.endpoint)
    create_bucket(world.endpoint, deployed.bucket)
    create_watermark_table(world.endpoint, deployed.watermark_table)
    for name, value in {
        "LAKEML_ENV": "aws",
        "LAKEML_HOME": str(world.home),
        "LAKEML_CONFIG": str(world.config),
        "LAKEML_AWS__REGION": REGION,
        "LAKEML_AWS__LAKE_BUCKET": deployed.bucket,
        "LAKEML_AWS__WATERMARK_TABLE": deployed.watermark_table,
        "LAKEML_AWS__ENDPOINT_URL": world.endpoint,
        "LAKEML_SOURCE__SECRET_ID": world.secret_id,
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_SERVICE_NAME": "lakeml-ingestion",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LAKEML_INGEST__SOURCES", str(world.sources))
    return deployed


@pytest.fixture
def invoke(deployment: Lambda, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture):
    """Call the handler as the runtime does; the powertools logger writes to this test's captured stdout."""
    from lakeml.handlers import ingest as module

    caplog.set_level(logging.DEBUG)
    stream_handler = module.logger.registered_handler
    original = stream_handler.stream  # type: ignore[attr-defined]

    def call(event: Any) -> dict[str, Any]:
        # The handler bound sys.stdout at import (collection) time; pytest swaps it per phase. Assign,
        # not setStream(): that would flush the old, already closed capture stream.
        stream_handler.stream = sys.stdout  # type: ignore[attr-defined]
        return module.handler(event, FakeLambdaContext())

    yield call
    stream_handler.stream = original  # type: ignore[attr-defined]


def emf_blobs(stdout: str) -> list[dict[str, Any]]:
    blobs = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blobs.append(json.loads(line))
    return blobs


def per_table_metrics(stdout: str) -> dict[str, dict[str, Any]]:
    """EMF blobs with a `table` dimension, by table; metric values unwrapped (EMF writes `[v]`)."""
    found = {}
    for blob in emf_blobs(stdout):
        directive = blob["_aws"]["CloudWatchMetrics"][0]
        if directive["Namespace"] == "lakeml/ingestion" and "table" in blob:
            found[blob["table"]] = {
                k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in blob.items()
            }
    return found


def test_one_invocation_lands_every_table_commits_manifests_and_advances_watermarks(
    world: World,
    deployment: Lambda,
    invoke: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = invoke({})

    runs = {run["table"]: run for run in result["runs"]}
    assert sorted(runs) == sorted(TABLES)
    for table, run in runs.items():
        assert run["status"] == "landed", run
        assert run["extracted"] == world.source_counts[table] > 0
        assert run["extracted"] == run["landed"] + run["quarantined"]
        keys = deployment.keys(f"bronze/{table.lower()}/")
        parts = [k for k in keys if k.endswith(".parquet") and f"run_id={run['run_id']}" in k]
        assert len(parts) == run["files"] >= 1
        manifest_keys = [k for k in deployment.keys("bronze/") if run["run_id"] in k and k.endswith(".json")]
        assert len(manifest_keys) == 1, manifest_keys
        manifest = deployment.read_json(manifest_keys[0])
        assert manifest["run_id"] == run["run_id"]
        stored = deployment.watermarks().get(table)
        assert stored is not None and stored.run_id == run["run_id"]
        assert stored.cursor.isoformat() == run["watermark_to"]

    captured = capsys.readouterr()
    metrics = per_table_metrics(captured.out)
    assert sorted(metrics) == sorted(TABLES)
    orders = metrics["ORDERS"]
    assert orders["RowsExtracted"] == runs["ORDERS"]["extracted"]
    assert orders["RowsLanded"] == runs["ORDERS"]["landed"]
    assert orders["RowsQuarantined"] == runs["ORDERS"]["quarantined"]
    assert orders["BytesLanded"] == runs["ORDERS"]["bytes"] > 0
    assert orders["WatermarkLagSeconds"] > 0
    names = {m["Name"] for m in orders["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"RowsExtracted", "RowsLanded", "RowsQuarantined", "BytesLanded", "DurationSeconds"} <= names
    assert sorted(orders["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["service", "table"]
    totals = [b for b in emf_blobs(captured.out) if "TablesIngested" in b]
    assert totals and totals[-1]["TablesIngested"] == [len(TABLES)] and totals[-1]["TablesFailed"] == [0]

    logs = [json.loads(line) for line in captured.out.splitlines() if '"message"' in line]
    finished = next(entry for entry in logs if entry["message"] == "ingestion finished")
    assert finished["function_request_id"] == FakeLambdaContext.aws_request_id
    assert_canary_never_appears(captured, caplog)


def test_second_invocation_without_source_changes_lands_nothing(
    world: World,
    deployment: Lambda,
    invoke: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = invoke({"tables": ["ORDERS", "CUSTOMERS"]})
    first_marks = {t: deployment.watermarks().get(t) for t in ("ORDERS", "CUSTOMERS")}
    parts_before = deployment.keys("bronze/")

    second = invoke({"tables": ["ORDERS", "CUSTOMERS"]})

    assert [run["landed"] for run in first["runs"]] == [
        world.source_counts[t] for t in ("ORDERS", "CUSTOMERS")
    ]
    assert [(run["table"], run["landed"], run["status"]) for run in second["runs"]] == [
        ("ORDERS", 0, "up_to_date"),
        ("CUSTOMERS", 0, "up_to_date"),
    ]
    assert {t: deployment.watermarks().get(t) for t in ("ORDERS", "CUSTOMERS")} == first_marks
    assert deployment.keys("bronze/") == parts_before
    assert deployment.keys("bronze/products/") == []  # not asked for
    assert_canary_never_appears(capsys.readouterr(), caplog)


def test_scheduled_eventbridge_event_ingests_every_table(deployment: Lambda, invoke: Any) -> None:
    result = invoke(SCHEDULED_EVENT)
    assert sorted(run["table"] for run in result["runs"]) == sorted(TABLES)
    assert all(deployment.watermarks().get(table) is not None for table in TABLES)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"tables": "ORDERS"}, "tables"),
        ({"tables": ["ORDERS", "NOT_A_TABLE"]}, "tables"),
        ({"table": ["ORDERS"]}, "table"),
        ({"full_refresh": "yes please"}, "full_refresh"),
        ({**SCHEDULED_EVENT, "detail": {"tables": [42]}}, "detail.tables.0"),
    ],
    ids=["tables-not-a-list", "unknown-table", "misspelt-key", "full-refresh-not-bool", "eventbridge-detail"],
)
def test_bad_event_is_a_validation_error_naming_the_field(
    deployment: Lambda, invoke: Any, event: dict[str, Any], field: str
) -> None:
    from ingestion.events import InvalidEvent

    with pytest.raises(InvalidEvent, match=rf"invalid ingestion event: {field}: "):
        invoke(event)
    assert deployment.keys("") == []  # nothing was extracted


def test_persistent_failure_raises_so_the_event_reaches_the_dlq(
    deployment: Lambda,
    invoke: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from ingestion.report import IngestFailed

    monkeypatch.setenv("LAKEML_AWS__WATERMARK_TABLE", "lakeml-watermarks-never-created")
    with pytest.raises(IngestFailed, match="lakeml-watermarks-never-created") as failure:
        invoke({"tables": ["PRODUCTS"]})

    assert [run.status for run in failure.value.report.runs] == ["failed"]
    captured = capsys.readouterr()
    assert per_table_metrics(captured.out)["PRODUCTS"]["RunFailed"] == 1
    assert any('"ingestion failed"' in line for line in captured.out.splitlines())
    assert_canary_never_appears(captured, caplog)


def test_missing_secret_raises_a_config_error_naming_it(
    deployment: Lambda,
    invoke: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lakeml.core.errors import ConfigError

    monkeypatch.setenv("LAKEML_SOURCE__SECRET_ID", "lakeml/snowflake/never-created")
    with pytest.raises(
        ConfigError, match=r"secret 'lakeml/snowflake/never-created' in eu-west-1 does not exist"
    ):
        invoke({"tables": ["ORDERS"]})
    out = capsys.readouterr().out
    assert '"ingestion could not start"' in out
    assert any(blob.get("InvocationsFailed") == [1.0] for blob in emf_blobs(out))


def test_key_pair_secret_authenticates_through_the_connector(
    world: World,
    deployment: Lambda,
    invoke: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An encrypted PEM + passphrase in the secret: the connector logs in with the decoded key (key-pair
    authenticator), and neither the passphrase nor the key shows up anywhere."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(CANARY.encode()),
    ).decode()
    secret_id = f"lakeml/snowflake/keypair-{uuid.uuid4().hex[:8]}"
    server_secret = json.loads(
        client("secretsmanager", world.endpoint).get_secret_value(SecretId=world.secret_id)["SecretString"]
    )
    del server_secret["password"]
    create_secret(
        world.endpoint, secret_id, {**server_secret, "private_key": pem, "private_key_passphrase": CANARY}
    )
    monkeypatch.setenv("LAKEML_SOURCE__SECRET_ID", secret_id)
    caplog.clear()

    result = invoke({"tables": ["PRODUCTS"]})

    assert result["runs"][0]["landed"] == world.source_counts["PRODUCTS"]
    from lakeml.core.settings import load_settings
    from lakeml.wiring import adapters

    assert type(adapters(load_settings()).source.connection().auth_class).__name__ == "AuthByKeyPair"
    captured = capsys.readouterr()
    assert_canary_never_appears(captured, caplog)
    assert "PRIVATE KEY" not in captured.out + captured.err + caplog.text


def assert_canary_never_appears(captured: Any, caplog: pytest.LogCaptureFixture) -> None:
    everything = "\n".join(
        [captured.out, captured.err, caplog.text, *(r.getMessage() for r in caplog.records)]
    )
    assert everything.strip(), "nothing was captured: the check below would prove nothing"
    assert CANARY not in everything
