"""What the DynamoDB watermark adapter adds beyond the port contract: its item layout (shared with infra
and operators), the wiring that selects it, and errors that say which table and what to do."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from ingestion.watermarks.dynamo import DynamoWatermarkStore
from ingestion.watermarks.port import Watermark, WatermarkConflict
from ingestion.watermarks.sqlite import SqliteWatermarkStore
from lakeml.core.errors import ConfigError, LakemlError
from lakeml.core.settings import Settings
from tests.contract.aws_emulator import REGION, client, create_watermark_table, moto_server

pytestmark = pytest.mark.xdist_group("moto-dynamodb")

MARK = Watermark(cursor=datetime(2026, 11, 26, 23, 59, 59, 250000), keys_at_cursor=("17", "18"), run_id="r-1")


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def table(aws_endpoint: str) -> str:
    name = f"lakeml-watermarks-{uuid.uuid4().hex[:10]}"
    create_watermark_table(aws_endpoint, name)
    return name


def test_the_item_is_readable_by_operators(aws_endpoint: str, table: str) -> None:
    DynamoWatermarkStore(table, REGION, aws_endpoint).advance("ORDERS", None, MARK)
    item = client("dynamodb", aws_endpoint).get_item(TableName=table, Key={"table_name": {"S": "ORDERS"}})[
        "Item"
    ]
    assert item["cursor"] == {"S": "2026-11-26T23:59:59.250000"}
    assert item["keys_at_cursor"] == {"L": [{"S": "17"}, {"S": "18"}]}
    assert item["run_id"] == {"S": "r-1"}
    assert datetime.fromisoformat(item["committed_at"]["S"]).tzinfo is not None


def test_conflict_names_the_run_that_won(aws_endpoint: str, table: str) -> None:
    store = DynamoWatermarkStore(table, REGION, aws_endpoint)
    store.advance("ORDERS", None, MARK)
    with pytest.raises(WatermarkConflict, match=r"ORDERS.*at run 'r-1' while this run expected None"):
        store.advance("ORDERS", None, Watermark(MARK.cursor, (), "r-2"))


def test_many_keys_at_one_cursor_are_stored_compressed(aws_endpoint: str, table: str) -> None:
    keys = tuple(str(1_000_000_000 + i * 7) for i in range(200_000))
    store = DynamoWatermarkStore(table, REGION, aws_endpoint)
    store.advance("ORDERS", None, Watermark(MARK.cursor, keys, "bulk"))
    item = client("dynamodb", aws_endpoint).get_item(TableName=table, Key={"table_name": {"S": "ORDERS"}})[
        "Item"
    ]
    assert "keys_at_cursor" not in item and len(item["keys_at_cursor_xz"]["B"]) < 200_000
    assert store.get("ORDERS") == Watermark(MARK.cursor, keys, "bulk")


def test_keys_that_cannot_fit_one_item_fail_with_a_message_naming_the_table(
    aws_endpoint: str, table: str
) -> None:
    rng = random.Random(7)
    keys = tuple(str(rng.randrange(10**9, 10**10)) for _ in range(100_000))
    store = DynamoWatermarkStore(table, REGION, aws_endpoint)
    with pytest.raises(
        LakemlError, match=r"watermark of ORDERS: 100000 rows share the cursor .* distinct cursor"
    ):
        store.advance("ORDERS", None, Watermark(MARK.cursor, keys, "bulk"))
    assert store.get("ORDERS") is None


def test_a_missing_table_is_a_config_error_naming_it_and_the_setting(aws_endpoint: str) -> None:
    store = DynamoWatermarkStore("lakeml-watermarks-missing", REGION, aws_endpoint)
    for call in (lambda: store.get("ORDERS"), lambda: store.advance("ORDERS", None, MARK)):
        with pytest.raises(
            ConfigError, match=r"'lakeml-watermarks-missing' does not exist.*LAKEML_AWS__WATERMARK_TABLE"
        ):
            call()


def test_the_wiring_picks_dynamodb_on_aws_with_the_configured_table(
    home: Path, aws_endpoint: str, table: str
) -> None:
    from lakeml.wiring import adapters

    settings = Settings(
        env="aws", aws={"region": REGION, "watermark_table": table, "endpoint_url": aws_endpoint}
    )
    store = adapters(settings).watermarks
    assert isinstance(store, DynamoWatermarkStore) and store.table_name == table
    store.advance("ORDERS", None, MARK)
    assert DynamoWatermarkStore(table, REGION, aws_endpoint).get("ORDERS") == MARK


def test_the_wiring_picks_sqlite_locally(home: Path) -> None:
    from lakeml.wiring import adapters

    assert isinstance(adapters(Settings()).watermarks, SqliteWatermarkStore)
