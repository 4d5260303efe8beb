"""Bronze fixtures written exactly as ingestion lands them, so the dbt project is tested on its input
contract without running ingestion: parts under
`<lake>/bronze/<table>/ingest_date=YYYY-MM-DD/run_id=<run>/part-00000.parquet`, a commit record under
`<lake>/bronze/_manifests/<table>/<run>.json` (omitted for an uncommitted run; ingestion's own manifest
model) and the visibility index dbt reads, `<lake>/bronze/_visible/<table>.json` (ingestion's
`publish_visibility`, the one rule for which runs a reader sees).

`ChurnHistory` is a small deterministic retail history (customers who keep buying, customers who
stop) with the shapes the models must handle: profile edits, status changes of old orders, tickets
resolved later. Its rows are the raw tables' (RETAIL.RAW); `write_run` lands them as ingestion does,
i.e. as the extraction views expose them (`extracted`): e-mail hashed, names gone.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.contracts.suites import EMAIL_REGEX
from ingestion.manifest import FileRecord, Manifest, write_manifest
from ingestion.schema import VIEWS, Table
from ingestion.visibility import publish_visibility
from ingestion.watermarks.port import Watermark
from lakeml.core.lake.local import LocalLake

Row = dict[str, Any]


def arrow_type(sf_type: str) -> pa.DataType:
    """Arrow type of a Snowflake column as ingestion lands it."""
    number = re.fullmatch(r"NUMBER\((\d+),(\d+)\)", sf_type)
    if number:
        precision, scale = int(number.group(1)), int(number.group(2))
        return pa.int64() if scale == 0 else pa.decimal128(precision, scale)
    return {"VARCHAR": pa.string(), "TIMESTAMP_NTZ": pa.timestamp("us"), "BOOLEAN": pa.bool_()}[sf_type]


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([(c.name, arrow_type(c.sf_type)) for c in table.columns])


def _value(value: Any, type_: pa.DataType) -> Any:
    if value is not None and pa.types.is_decimal(type_):
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-type_.scale))
    return value


def extracted(row: Row) -> Row:
    """A raw row as its `RETAIL.EXTRACT` view returns it (dbt_project/models/snowflake/): EMAIL becomes
    EMAIL_SHA256 (hex SHA-256 of lower(trim())) and EMAIL_VALID (the contract's rule), names are dropped."""
    if "EMAIL" not in row:
        return row
    out = {k: v for k, v in row.items() if k not in ("EMAIL", "FIRST_NAME", "LAST_NAME")}
    email = row["EMAIL"]
    out["EMAIL_SHA256"] = (
        None if email is None else hashlib.sha256(email.strip(" ").lower().encode()).hexdigest()
    )
    out["EMAIL_VALID"] = None if email is None else re.fullmatch(EMAIL_REGEX.strip("^$"), email) is not None
    return out


def write_run(
    lake: Path, table: str, run_id: str, ingest_date: date, rows: list[Row], *, commit: bool = True
) -> Path:
    """Land raw `rows` of `table` as one run, in the extraction view's columns; write its manifest
    (= commit it) unless `commit` is False."""
    spec = VIEWS[table]
    schema = arrow_schema(spec)
    rows = [extracted(r) for r in rows]
    columns = {f.name: [_value(r.get(f.name), f.type) for r in rows] for f in schema}
    part_dir = lake / "bronze" / table.lower() / f"ingest_date={ingest_date.isoformat()}" / f"run_id={run_id}"
    part_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns, schema=schema), part_dir / "part-00000.parquet")
    if commit:
        commit_run(lake, table, run_id, ingest_date, rows, part_dir / "part-00000.parquet")
    return part_dir


def commit_run(lake: Path, table: str, run_id: str, ingest_date: date, rows: list[Row], part: Path) -> None:
    """Write the run's manifest and re-publish the table's visibility index, as ingestion commits."""
    spec = VIEWS[table]
    cursor = [r[spec.cursor] for r in rows if r.get(spec.cursor) is not None]
    day = datetime.combine(ingest_date, datetime.min.time())
    high = max(cursor) if cursor else day
    data = part.read_bytes()
    record = FileRecord(
        path=str(part.relative_to(lake)),
        rows=len(rows),
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    manifest = Manifest(
        table=table,
        run_id=run_id,
        ingest_date=ingest_date.isoformat(),
        window_low=None,
        window_high=high,
        mode="incremental",
        fetch_mode="fetch",
        from_run_id=None,
        extracted=len(rows),
        landed=len(rows),
        quarantined=0,
        batches=[(len(rows), len(rows), 0)],
        min_cursor=min(cursor) if cursor else None,
        max_cursor=max(cursor) if cursor else None,
        schema_fingerprint="fixture",
        columns=[],
        files=[record],
        quarantine_files=[],
        drift=None,
        supersedes=[],
        new_watermark=Watermark(high, (), run_id),
        committed_at=day.replace(tzinfo=UTC),
    )
    store = LocalLake.create(lake)
    write_manifest(store, manifest)
    publish_visibility(store, [table])


@dataclass
class ChurnHistory:
    """A deterministic history from `start` for `days` days: `customers` customers, half of whom stop
    ordering after a while (churners), with orders, lines, tickets and a few later edits."""

    start: date = date(2025, 1, 1)
    days: int = 200
    customers: int = 24
    seed: int = 7
    tables: dict[str, list[Row]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        t0 = datetime.combine(self.start, datetime.min.time())
        customers, products, orders, items, tickets = [], [], [], [], []
        for p in range(1, 9):
            products.append(
                {
                    "PRODUCT_ID": p,
                    "SKU": f"SKU-{p:04d}",
                    "PRODUCT_NAME": f"Product {p}",
                    "CATEGORY": ("grocery", "home", "electronics", "fashion")[p % 4],
                    "LIST_PRICE": 5 + p * 3.25,
                    "IS_ACTIVE": True,
                    "UPDATED_AT": t0,
                }
            )
        order_id = item_id = ticket_id = 0
        for c in range(1, self.customers + 1):
            signup = t0 + timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23))
            customers.append(
                {
                    "CUSTOMER_ID": c,
                    "EMAIL": f"Customer{c}@Example.COM",
                    "FIRST_NAME": f"First{c}",
                    "LAST_NAME": f"Last{c}",
                    "BIRTH_YEAR": 1950 + c,
                    "SIGNUP_AT": signup,
                    "SIGNUP_CHANNEL": (" Web", "APP", "store")[c % 3],
                    "REGION": ("north", "south", "east", "west", "central")[c % 5],
                    "LOYALTY_TIER": ("none", "silver", "gold", "platinum")[c % 4],
                    "MARKETING_OPT_IN": c % 2 == 0,
                    "UPDATED_AT": signup,
                }
            )
            stop_day = rng.randint(40, 120) if c % 2 else self.days  # odd customers churn
            day = (signup - t0).days + rng.randint(1, 5)
            while day < min(stop_day, self.days):
                order_id += 1
                ts = t0 + timedelta(days=day, hours=rng.randint(8, 20), minutes=rng.randint(0, 59))
                lines = []
                for _ in range(rng.randint(1, 3)):
                    item_id += 1
                    product = products[rng.randrange(len(products))]
                    quantity = rng.randint(1, 3)
                    lines.append(
                        {
                            "ORDER_ITEM_ID": item_id,
                            "ORDER_ID": order_id,
                            "PRODUCT_ID": product["PRODUCT_ID"],
                            "ORDER_TS": ts,
                            "QUANTITY": quantity,
                            "UNIT_PRICE": product["LIST_PRICE"],
                            "DISCOUNT_AMOUNT": 0.5 if rng.random() < 0.3 else 0.0,
                            "UPDATED_AT": ts,
                        }
                    )
                gross = round(sum(line["QUANTITY"] * line["UNIT_PRICE"] for line in lines), 2)
                discount = round(sum(line["DISCOUNT_AMOUNT"] for line in lines), 2)
                orders.append(
                    {
                        "ORDER_ID": order_id,
                        "CUSTOMER_ID": c,
                        "ORDER_TS": ts,
                        "CHANNEL": ("web", "app", "store")[rng.randrange(3)],
                        "STATUS": "delivered",
                        "ITEM_COUNT": sum(line["QUANTITY"] for line in lines),
                        "GROSS_AMOUNT": gross,
                        "DISCOUNT_AMOUNT": discount,
                        "NET_AMOUNT": round(gross - discount, 2),
                        "UPDATED_AT": ts,
                    }
                )
                items.extend(lines)
                if rng.random() < 0.15:
                    ticket_id += 1
                    created = ts + timedelta(days=1)
                    tickets.append(
                        {
                            "TICKET_ID": ticket_id,
                            "CUSTOMER_ID": c,
                            "CREATED_AT": created,
                            "CATEGORY": ("delivery", "billing", "returns")[ticket_id % 3],
                            "SEVERITY": ("low", "medium", "high", "critical")[ticket_id % 4],
                            "STATUS": "resolved",
                            "SATISFACTION_SCORE": 1 + ticket_id % 5,
                            "RESOLVED_AT": created + timedelta(days=3),
                            "UPDATED_AT": created + timedelta(days=3),
                        }
                    )
                day += rng.randint(4, 12)
        self.tables = {
            "CUSTOMERS": customers,
            "PRODUCTS": products,
            "ORDERS": orders,
            "ORDER_ITEMS": items,
            "SUPPORT_TICKETS": tickets,
        }

    @property
    def end(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time()) + timedelta(days=self.days)

    def before(self, table: str, cut: datetime) -> list[Row]:
        """Rows whose cursor (UPDATED_AT) is before `cut`: what an extraction at `cut` would see."""
        return [r for r in self.tables[table] if r["UPDATED_AT"] < cut]

    def between(self, table: str, low: datetime, high: datetime) -> list[Row]:
        return [r for r in self.tables[table] if low <= r["UPDATED_AT"] < high]


def land_history(lake: Path, history: ChurnHistory, cut: datetime, run_id: str = "initial") -> None:
    """Land everything updated before `cut` as one committed run per table."""
    for table in VIEWS:
        write_run(lake, table, run_id, cut.date(), history.before(table, cut))
