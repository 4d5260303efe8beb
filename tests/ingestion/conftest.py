"""Plumbing for ingestion tests: a small source built with SQL through the real connector, with the
extraction views ingestion reads by default, and a sources file per test. Assertions stay in the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingestion.schema import TABLES
from tests.conftest import REPO

T0 = datetime(2025, 3, 1, 8, 0, 0)


class Source:
    """Direct SQL access to the local source of one LAKEML_HOME (tables ORDERS and CUSTOMERS)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.next_order = 1
        self.next_customer = 1

    def sql(self, text: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(text, params or {})
            try:
                return cur.fetchall()
            except Exception:
                return []

    def create(self) -> None:
        """Empty raw tables (tests fill ORDERS and CUSTOMERS); the views need every one of them."""
        self.sql("CREATE DATABASE IF NOT EXISTS RETAIL")
        self.sql("CREATE SCHEMA IF NOT EXISTS RETAIL.RAW")
        for name, table in TABLES.items():
            self.sql(table.ddl(f"RETAIL.RAW.{name}"))

    def create_views(self, ddl: list[str]) -> None:
        """The extraction views RETAIL.EXTRACT.* over the raw tables, from dbt's own DDL."""
        self.sql("CREATE SCHEMA IF NOT EXISTS RETAIL.EXTRACT")
        with self.conn.cursor() as cur:
            for statement in ddl:
                cur.execute(statement)  # no binds: the e-mail rule holds a literal '%'

    def add_orders(self, n: int, updated_at: datetime, spread_minutes: int = 60) -> list[int]:
        """n good orders with UPDATED_AT spread over `spread_minutes` ending at `updated_at`."""
        first = self.next_order
        self.sql(
            "INSERT INTO RETAIL.RAW.ORDERS SELECT %(first)s + seq4(), 1 + seq4() %% 7, %(ts)s, 'web', 'placed', "
            "2, 20.50, 0.50, 20.00, dateadd(minute, -(seq4() %% %(spread)s), %(ts)s) "
            "FROM table(generator(rowcount=>%(n)s))",
            {"first": first, "ts": updated_at, "spread": spread_minutes, "n": n},
        )
        self.next_order += n
        return list(range(first, first + n))

    def add_order(self, order_id: int, updated_at: datetime, net: str = "20.00") -> None:
        self.sql(
            "INSERT INTO RETAIL.RAW.ORDERS (ORDER_ID, CUSTOMER_ID, ORDER_TS, CHANNEL, STATUS, ITEM_COUNT, "
            "GROSS_AMOUNT, DISCOUNT_AMOUNT, NET_AMOUNT, UPDATED_AT) VALUES (%(id)s, 1, %(ts)s, 'web', 'placed', "
            f"2, 20.50, 0.50, {net}, %(ts)s)",
            {"id": order_id, "ts": updated_at},
        )

    def add_customers(self, n: int, updated_at: datetime) -> list[int]:
        first = self.next_customer
        self.sql(
            "INSERT INTO RETAIL.RAW.CUSTOMERS SELECT %(first)s + seq4(), 'c' || seq4() || '@example.com', "
            "'Ann', 'Lee', 1980, '2024-01-01'::timestamp, 'web', 'north', 'gold', true, "
            "dateadd(second, -(seq4() %% 600), %(ts)s) FROM table(generator(rowcount=>%(n)s))",
            {"first": first, "ts": updated_at, "n": n},
        )
        self.next_customer += n
        return list(range(first, first + n))

    def touch_orders(self, ids: list[int], updated_at: datetime) -> None:
        self.sql(
            f"UPDATE RETAIL.RAW.ORDERS SET STATUS = 'shipped', UPDATED_AT = %(ts)s WHERE ORDER_ID IN "
            f"({', '.join(str(int(i)) for i in ids)})",
            {"ts": updated_at},
        )

    def duplicate_order(self, order_id: int) -> None:
        """An exact extra copy of a row (a double insert)."""
        self.sql(
            "INSERT INTO RETAIL.RAW.ORDERS SELECT * FROM RETAIL.RAW.ORDERS WHERE ORDER_ID = %(id)s",
            {"id": order_id},
        )


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write an ingestion sources file for this test and point LAKEML_INGEST__SOURCES at it."""

    def write(text: str | None = None, **defaults: Any) -> Path:
        options = {"lag_seconds": 0, "contract": False, **defaults}
        body = text or "tables:\n  ORDERS: {}\n  CUSTOMERS: {}\n"
        lines = "\n".join(
            f"  {k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in options.items()
        )
        path = tmp_path / "sources.yml"
        path.write_text(f"defaults:\n{lines}\n" + textwrap.dedent(body))
        monkeypatch.setenv("LAKEML_INGEST__SOURCES", str(path))
        return path

    write()
    return write


def build_extraction_views(home: Path, config: Path) -> None:
    """`lakeml transform --snowflake` for this home's local Snowflake, as a deployment does once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEML_", "DBT_"))}
    built = subprocess.run(
        [sys.executable, "-m", "lakeml.cli.main", "--json", "transform", "--snowflake"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={**env, "LAKEML_HOME": str(home), "LAKEML_CONFIG": str(config)},
    )
    assert built.returncode == 0, built.stderr[-3000:]


@pytest.fixture(scope="session")
def extraction_view_ddl(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The DDL of the extraction views exactly as dbt-snowflake ran it: `lakeml transform --snowflake` (the
    project's own build of dbt_project/models/snowflake/) once per worker, over a scratch source of empty
    raw tables. Each test's source replays it, so every test reads the real views without paying a dbt
    run (~5 s) of its own."""
    from lakeml.core.settings import Settings
    from lakeml.twins.snowflake import server
    from lakeml.twins.snowflake.connection import connect

    base = tmp_path_factory.mktemp("extraction-views")
    config = base / "lakeml.toml"
    config.write_text("# extraction view DDL: defaults only\n")
    with pytest.MonkeyPatch.context() as env:  # this scratch home's settings: defaults only
        env.setenv("LAKEML_CONFIG", str(config))
        env.delenv("LAKEML_ENV", raising=False)
        settings = Settings(home=base / "home")
    server.ensure_running(settings)
    try:
        with connect(settings) as conn:
            Source(conn).create()
        build_extraction_views(settings.home, config)
    finally:
        server.stop(settings)
    run = settings.home / "dbt" / "target" / "run" / "lakeml" / "models" / "snowflake"
    ddl = [path.read_text() for path in sorted(run.glob("extract_*.sql"))]
    assert len(ddl) == len(TABLES), sorted(p.name for p in run.iterdir())
    return ddl


@pytest.fixture
def source(home: Path, extraction_view_ddl: list[str]) -> Iterator[Source]:
    """The local source of this test's home: empty raw tables (RETAIL.RAW) and the extraction views over
    them (RETAIL.EXTRACT), which ingestion reads by default."""
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake.connection import connect

    conn = connect(load_settings())
    src = Source(conn)
    src.create()
    src.create_views(extraction_view_ddl)
    yield src
    conn.close()


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)
