"""The ingestion Lambda's two event shapes, parsed as its handler parses them (the full handler runs
against moto and the local Snowflake twin in tests/ingestion/test_handler.py)."""

from __future__ import annotations

from ingestion.config import load_sources
from ingestion.events import parse_event
from tests.handlers.conftest import event

CONFIGURED = load_sources().tables


def test_the_scheduled_event_ingests_every_configured_table() -> None:
    request = parse_event(event("ingest_scheduled_event"), CONFIGURED)
    assert request.tables is None and request.full_refresh is False  # None: every configured table


def test_the_flow_map_item_ingests_its_one_table() -> None:
    request = parse_event(event("ingest_map_item"), CONFIGURED)
    assert request.tables == ["CUSTOMERS"] and request.full_refresh is False
