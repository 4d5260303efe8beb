"""The watermark store contract, run against both adapters: local SQLite and DynamoDB (moto server)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ingestion.watermarks.dynamo import DynamoWatermarkStore
from ingestion.watermarks.port import Watermark, WatermarkConflict, WatermarkStore
from ingestion.watermarks.sqlite import SqliteWatermarkStore
from tests.contract.aws_emulator import REGION, create_watermark_table

T0 = datetime(2026, 11, 20, 3, 0, 0)


def mark(cursor: datetime, run_id: str, keys: tuple[str, ...] = ()) -> Watermark:
    return Watermark(cursor=cursor, keys_at_cursor=keys, run_id=run_id)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> WatermarkStore:
    if request.param == "sqlite":
        return SqliteWatermarkStore(tmp_path / "state.db")
    endpoint = request.getfixturevalue("aws_endpoint")
    table = f"watermarks-{uuid.uuid4().hex[:12]}"  # the moto server is shared by the module
    create_watermark_table(endpoint, table)
    return DynamoWatermarkStore(table, region=REGION, endpoint_url=endpoint)


def test_an_unknown_table_has_no_watermark(store: WatermarkStore) -> None:
    assert store.get("ORDERS") is None


def test_first_advance_from_none_stores_the_value(store: WatermarkStore) -> None:
    first = mark(T0, "orders-0001", ("1", "2"))
    store.advance("ORDERS", None, first)
    assert store.get("ORDERS") == first


def test_advance_from_the_expected_value_replaces_it(store: WatermarkStore) -> None:
    first, second = mark(T0, "orders-0001"), mark(T0 + timedelta(hours=1), "orders-0002", ("7",))
    store.advance("ORDERS", None, first)
    store.advance("ORDERS", first, second)
    assert store.get("ORDERS") == second


def test_stale_expected_value_raises_conflict_and_keeps_the_stored_one(store: WatermarkStore) -> None:
    first, second = mark(T0, "orders-0001"), mark(T0 + timedelta(hours=1), "orders-0002")
    store.advance("ORDERS", None, first)
    store.advance("ORDERS", first, second)
    with pytest.raises(WatermarkConflict, match="ORDERS"):
        store.advance("ORDERS", first, mark(T0 + timedelta(hours=2), "orders-0003"))
    assert store.get("ORDERS") == second


def test_first_advance_raises_conflict_when_a_value_exists(store: WatermarkStore) -> None:
    first = mark(T0, "orders-0001")
    store.advance("ORDERS", None, first)
    with pytest.raises(WatermarkConflict):
        store.advance("ORDERS", None, mark(T0 + timedelta(hours=1), "orders-0002"))
    assert store.get("ORDERS") == first


def test_advance_from_a_value_raises_conflict_when_none_is_stored(store: WatermarkStore) -> None:
    with pytest.raises(WatermarkConflict):
        store.advance("ORDERS", mark(T0, "orders-0001"), mark(T0 + timedelta(hours=1), "orders-0002"))
    assert store.get("ORDERS") is None


def race(store: WatermarkStore, table: str, start: Watermark) -> dict[str, str]:
    """Two threads released together by a barrier, both advancing `table` from `start`."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def run(name: str) -> None:
        barrier.wait()
        try:
            store.advance(table, start, mark(T0 + timedelta(hours=1), f"{table}-{name}"))
            outcomes[name] = "won"
        except WatermarkConflict:
            outcomes[name] = "conflict"

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_runs_racing_from_the_same_value_exactly_one_wins(store: WatermarkStore) -> None:
    """Many rounds, so an adapter without a real compare-and-set (read, then write) would let both
    threads win in some round."""
    for round_ in range(15):
        table = f"RACE_{round_}"
        start = mark(T0, f"{table}-start")
        store.advance(table, None, start)
        outcomes = race(store, table, start)
        assert sorted(outcomes.values()) == ["conflict", "won"], f"round {round_}: {outcomes}"
        winner = next(name for name, outcome in outcomes.items() if outcome == "won")
        stored = store.get(table)
        assert stored is not None and stored.run_id == f"{table}-{winner}"


def test_clear_forgets_only_that_table(store: WatermarkStore) -> None:
    orders, customers = mark(T0, "orders-0001"), mark(T0, "customers-0001")
    store.advance("ORDERS", None, orders)
    store.advance("CUSTOMERS", None, customers)
    store.clear("ORDERS")
    assert store.get("ORDERS") is None
    assert store.get("CUSTOMERS") == customers
    store.advance("ORDERS", None, orders)  # after a clear the next run starts from nothing again
    assert store.get("ORDERS") == orders


def test_clear_of_an_unknown_table_is_a_no_op(store: WatermarkStore) -> None:
    store.clear("NEVER_INGESTED")
    assert store.get("NEVER_INGESTED") is None


@pytest.mark.parametrize(
    "keys",
    [
        (),
        ("42",),
        tuple(str(i) for i in range(2_000)),
        tuple(str(1_000_000_000 + i * 7) for i in range(200_000)),  # a bulk update: one timestamp
        ("a,b", "ü-ключ", " spaced ", ""),
    ],
    ids=["none", "one", "two-thousand", "two-hundred-thousand", "odd-characters"],
)
def test_keys_at_cursor_round_trip_in_order(store: WatermarkStore, keys: tuple[str, ...]) -> None:
    value = mark(T0, "orders-0001", keys)
    store.advance("ORDERS", None, value)
    stored = store.get("ORDERS")
    assert stored is not None and stored.keys_at_cursor == keys


@pytest.mark.parametrize(
    "cursor",
    [
        datetime(2026, 11, 20, 3, 0, 0, 123456),
        datetime(2026, 11, 20, 3, 0, 0, 1),
        datetime(2026, 11, 20, 3, 0, 0, 999999, tzinfo=UTC),
        datetime(2026, 11, 20, 3, 0, 0, 500000, tzinfo=timezone(timedelta(hours=-5))),
    ],
    ids=["naive", "one-microsecond", "utc", "offset"],
)
def test_cursor_timestamps_round_trip_to_the_microsecond(store: WatermarkStore, cursor: datetime) -> None:
    value = mark(cursor, "orders-0001")
    store.advance("ORDERS", None, value)
    stored = store.get("ORDERS")
    assert stored is not None
    assert stored.cursor == cursor
    assert stored.cursor.microsecond == cursor.microsecond
    assert stored.cursor.utcoffset() == cursor.utcoffset()
    # and the value read back is a valid `expected` for the next advance
    store.advance("ORDERS", stored, mark(cursor + timedelta(microseconds=1), "orders-0002"))
