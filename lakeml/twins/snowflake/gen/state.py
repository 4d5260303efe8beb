"""What the generator remembers between commands, in RETAIL.LAKEML_META (never extracted).

- GENERATOR_STATE: one JSON row, `GeneratorState` -- the seed config, how far the simulation got (days,
  advances, drift) and the next free row id of each table. `advance` continues from it.
- CUSTOMER_STATE: each customer's hidden traits and churn state (`sim.Traits`), one row per customer.
- INJECTED_BAD_ROWS: the register of bad rows (written by `bad.inject` through the generator).

The JSON keys and the table layouts are what earlier releases wrote: a source seeded by one release
advances identically under the next.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from lakeml.core.errors import UsageError
from lakeml.twins.snowflake.gen.columns import epoch_seconds
from lakeml.twins.snowflake.gen.sim import DAY_S, Traits
from lakeml.twins.snowflake.gen.sql import META, Sql

CHUNK_CUSTOMERS = 20_000  # fixed: part of the random streams' keys, stored in the state
STATE_VERSION = 1

CUSTOMER_STATE_COLUMNS = {
    "CUSTOMER_ID": "NUMBER(38,0)",
    "SIGNUP_DAY": "NUMBER(38,0)",
    "SIGNUP_SECOND": "NUMBER(38,0)",
    "CHANNEL": "NUMBER(38,0)",
    "MARKETING_OPT_IN": "BOOLEAN",
    "SATISFACTION": "FLOAT",
    "PRICE_SENSITIVITY": "FLOAT",
    "ENGAGEMENT": "FLOAT",
    "ORDER_RATE": "FLOAT",
    "TICKET_RATE": "FLOAT",
    "BASE_LOG_HAZARD": "FLOAT",
    "CHURN_DAY": "NUMBER(38,0)",
    "FRUSTRATION": "FLOAT",
    "LAST_ORDER_DAY": "NUMBER(38,0)",
}
assert list(CUSTOMER_STATE_COLUMNS) == Traits.names()

_TRAIT_DTYPES: dict[str, Any] = {
    n: (bool if kind == "BOOLEAN" else np.float64 if kind == "FLOAT" else np.int64)
    for n, kind in CUSTOMER_STATE_COLUMNS.items()
}
_TRAIT_DTYPES["CHANNEL"] = np.int8


@dataclass(frozen=True)
class SeedConfig:
    """What `lakeml source seed` generates. Same config (incl. seed) => identical table contents."""

    customers: int = 5_000
    days: int = 450
    seed: int = 42
    bad_rate: float = 0.0
    start_date: date = date(2025, 1, 1)

    def validate(self) -> None:
        if self.customers < 1:
            raise UsageError(f"--customers must be at least 1 (got {self.customers})")
        if self.days < 1:
            raise UsageError(f"--days must be at least 1 (got {self.days})")
        if self.seed < 0:
            raise UsageError(f"--seed must be 0 or more (got {self.seed})")
        if not 0.0 <= self.bad_rate <= 0.5:
            raise UsageError(f"--bad-rate must be between 0 and 0.5 (got {self.bad_rate})")

    def to_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}


@dataclass
class GeneratorState:
    """How far the simulation of one source got. The clock is the end of the last simulated day
    (23:59:59 of `through`); nothing is ever written with an UPDATED_AT after it."""

    config: SeedConfig
    products: int
    days_simulated: int
    next_customer_id: int = 1
    next_order_id: int = 1
    next_order_item_id: int = 1
    next_ticket_id: int = 1
    advances: int = 0  # phase of the random streams: 0 is the seed, n the n-th advance
    drifted: bool = False
    chunk_customers: int = CHUNK_CUSTOMERS
    version: int = STATE_VERSION

    @classmethod
    def fresh(cls, config: SeedConfig) -> GeneratorState:
        """The state before a seed wrote anything."""
        return cls(
            config=config,
            products=int(np.clip(config.customers // 25, 200, 5_000)),
            days_simulated=config.days,
        )

    @property
    def start_s(self) -> int:
        """Epoch seconds of the first simulated day."""
        return epoch_seconds(self.config.start_date)

    @property
    def clock(self) -> int:
        """Epoch seconds of the last moment simulated."""
        return self.start_s + self.days_simulated * DAY_S - 1

    @property
    def through(self) -> date:
        """The last simulated day."""
        return self.config.start_date + timedelta(days=self.days_simulated - 1)

    @property
    def customers(self) -> int:
        """Customers so far (their ids are 1..customers)."""
        return self.next_customer_id - 1

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            **self.config.to_json(),
            "days_simulated": self.days_simulated,
            "chunk_customers": self.chunk_customers,
            "products": self.products,
            "next_customer_id": self.next_customer_id,
            "next_order_id": self.next_order_id,
            "next_order_item_id": self.next_order_item_id,
            "next_ticket_id": self.next_ticket_id,
            "advances": self.advances,
            "drifted": self.drifted,
            "through": self.through.isoformat(),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> GeneratorState:
        config = SeedConfig(
            customers=doc["customers"],
            days=doc["days"],
            seed=doc["seed"],
            bad_rate=doc["bad_rate"],
            start_date=date.fromisoformat(doc["start_date"]),
        )
        return cls(
            config=config,
            products=doc["products"],
            days_simulated=doc["days_simulated"],
            next_customer_id=doc["next_customer_id"],
            next_order_id=doc["next_order_id"],
            next_order_item_id=doc["next_order_item_id"],
            next_ticket_id=doc["next_ticket_id"],
            advances=doc["advances"],
            drifted=doc["drifted"],
            chunk_customers=doc["chunk_customers"],
            version=doc["version"],
        )


# --- GENERATOR_STATE --------------------------------------------------------------------------------------


def read_state(sql: Sql) -> GeneratorState | None:
    """The stored state, or None when the source has not been seeded."""
    if "GENERATOR_STATE" not in sql.tables("LAKEML_META"):
        return None
    rows = sql.run(f"SELECT STATE FROM {META}.GENERATOR_STATE")
    return GeneratorState.from_json(json.loads(rows[0][0])) if rows else None


def require_state(sql: Sql) -> GeneratorState:
    state = read_state(sql)
    if state is None:
        raise UsageError("the source has not been seeded; run `lakeml source seed` first")
    return state


def write_state(sql: Sql, state: GeneratorState) -> None:
    sql.run(f"CREATE TABLE IF NOT EXISTS {META}.GENERATOR_STATE (STATE VARCHAR)")
    sql.run(f"DELETE FROM {META}.GENERATOR_STATE")
    sql.run(
        f"INSERT INTO {META}.GENERATOR_STATE (STATE) VALUES (%(state)s)",
        {"state": json.dumps(state.to_json(), sort_keys=True)},
    )


# --- CUSTOMER_STATE and INJECTED_BAD_ROWS -------------------------------------------------------------------


def customer_state_ddl() -> str:
    return ", ".join(f"{name} {kind}" for name, kind in CUSTOMER_STATE_COLUMNS.items())


def create_meta_tables(sql: Sql) -> None:
    sql.run(f"CREATE SCHEMA IF NOT EXISTS {META}")
    sql.run(f"CREATE OR REPLACE TABLE {META}.CUSTOMER_STATE ({customer_state_ddl()})")
    sql.run(
        f"CREATE OR REPLACE TABLE {META}.INJECTED_BAD_ROWS (TABLE_NAME VARCHAR, BAD_CLASS VARCHAR, "
        "PK_VALUE VARCHAR, UPDATED_AT TIMESTAMP_NTZ, COLUMN_NAME VARCHAR, ROW_JSON VARCHAR)"
    )


def traits_table(traits: Traits) -> pa.Table:
    """Rows of CUSTOMER_STATE for these customers."""
    return pa.table({name: pa.array(getattr(traits, name)) for name in Traits.names()})


def read_traits(sql: Sql, low: int, high: int) -> Traits:
    """Stored traits of customers low..high (none when high < low), ordered by id."""
    if high < low:
        return Traits(**{n: np.zeros(0, dtype=_TRAIT_DTYPES[n]) for n in Traits.names()})
    table = sql.arrow(
        f"SELECT {', '.join(Traits.names())} FROM {META}.CUSTOMER_STATE "
        f"WHERE CUSTOMER_ID BETWEEN {low} AND {high} ORDER BY CUSTOMER_ID"
    )
    return Traits(
        **{n: table.column(n).to_numpy(zero_copy_only=False).astype(_TRAIT_DTYPES[n]) for n in Traits.names()}
    )
