"""The churn data generator: `seed`, `advance`, `drift`, `reset` and `table_counts` of the source.

Writes RETAIL.RAW (the five tables of `schema.TABLES`) through a real snowflake connection, and keeps its
own state in RETAIL.LAKEML_META (`gen/state.py`). `seed` simulates the history; `advance` simulates more
days: new rows from the customer simulation (`gen/sim.py`, `gen/rows.py`) and updates of existing rows
(`gen/updates.py`); `drift` changes the schema (`gen/drift.py`). See docs/source-data.md for the model and
the planted signal.

Determinism: every random draw comes from a stream keyed by (seed, phase, customer chunk, purpose) or
from a hash of (seed, row id); chunks have a fixed size, so the same seed and the same sequence of
commands give identical tables, independent of timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ingestion import schema
from lakeml.core.errors import UsageError
from lakeml.twins.snowflake.gen import bad, rows
from lakeml.twins.snowflake.gen.catalogue import Catalogue, PriceBook, catalogue, product_table
from lakeml.twins.snowflake.gen.drift import DRIFT_ADDED, DRIFT_RETYPED, apply_drift
from lakeml.twins.snowflake.gen.rng import stream
from lakeml.twins.snowflake.gen.sim import DAY_S, NEVER, Events, Traits, draw_traits, simulate
from lakeml.twins.snowflake.gen.sql import META, RAW, Sql, session
from lakeml.twins.snowflake.gen.state import (
    CHUNK_CUSTOMERS,
    GeneratorState,
    SeedConfig,
    create_meta_tables,
    customer_state_ddl,
    read_state,
    read_traits,
    require_state,
    traits_table,
    write_state,
)
from lakeml.twins.snowflake.gen.updates import update_existing_rows

ProgressFn = Callable[[str, int, int], None]

NEW_CUSTOMER_SHARE = 0.35  # new sign-ups per day in `advance` = this * customers / days of the seed

__all__ = [
    "CHUNK_CUSTOMERS",
    "DRIFT_ADDED",
    "DRIFT_RETYPED",
    "ProgressFn",
    "SeedConfig",
    "advance",
    "drift",
    "reset",
    "seed",
    "table_counts",
]


def table_counts(conn: Any) -> dict[str, int]:
    """Rows per RETAIL.RAW table (0 for a table that does not exist yet)."""
    with session(conn) as sql:
        return _counts(sql)


def reset(conn: Any) -> None:
    """Drop the source's data and the generator's state; RETAIL.RAW is left empty."""
    with session(conn) as sql:
        sql.run(f"DROP SCHEMA IF EXISTS {RAW} CASCADE")
        sql.run(f"DROP SCHEMA IF EXISTS {META} CASCADE")
        sql.run(f"CREATE SCHEMA IF NOT EXISTS {RAW}")


def seed(conn: Any, config: SeedConfig, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Create RETAIL.RAW and fill it: `config.customers` customers over `config.days` days of history."""
    config.validate()
    started = time.monotonic()
    report_progress = progress or (lambda _task, _done, _total: None)
    with session(conn) as sql:
        counts = _counts(sql)
        if any(counts.values()) or read_state(sql) is not None:
            raise UsageError(
                f"the source already has data ({sum(counts.values()):,} rows in {RAW}); run "
                "`lakeml source reset --yes` to start again, or `lakeml source advance --days N` to add days"
            )
        _create_tables(sql)
        state = GeneratorState.fresh(config)
        cat = catalogue(config.seed, state.products, state.start_s)
        prices = PriceBook.with_changes(
            stream(config.seed, 0, 0, "prices"), cat.base_cents, cat.active, 0, config.days
        )
        run = _Writer(sql, state, phase=0, clock=state.clock, cat=cat, prices=prices)
        final_price, last_day = prices.final()
        updated = np.where(last_day < NEVER, prices.last_change_seconds(state.start_s), cat.created_s)
        run.insert("PRODUCTS", product_table(cat, final_price, updated), chunk=0)

        total = config.customers
        report_progress("customers", 0, total)
        for chunk, low, high in _chunks(total, state.chunk_customers):
            ids = np.arange(low, high + 1, dtype=np.int64)
            traits = draw_traits(
                stream(config.seed, 0, chunk, "traits"), ids, 0, config.days - 1, prehistory=True
            )
            events = simulate(
                traits, stream(config.seed, 0, chunk, "days"), config.start_date, 0, config.days
            )
            rng = stream(config.seed, 0, chunk, "rows")
            customers = rows.customer_table(rng, traits, state.start_s, state.clock, with_language=False)
            run.write_chunk(chunk, traits, events, customers)
            sql.append(f"{META}.CUSTOMER_STATE", traits_table(traits))
            report_progress("customers", high, total)
        sql.flush()
        state.next_customer_id = total + 1
        write_state(sql, state)
        counts = _counts(sql)
    seconds = time.monotonic() - started
    return {
        "tables": counts,
        "through": state.through.isoformat(),
        "bad_rows": run.bad_counts,
        "seconds": round(seconds, 2),
        "rows_per_second": round(sum(counts.values()) / max(seconds, 1e-9)),
        "config": config.to_json(),
    }


def advance(conn: Any, days: int, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Simulate `days` more days: new customers, orders, items and tickets, plus updates to existing rows
    (order status transitions, ticket resolution and survey, profile edits, price changes), all with an
    UPDATED_AT inside the new days."""
    if days < 1:
        raise UsageError(f"--days must be at least 1 (got {days})")
    report_progress = progress or (lambda _task, _done, _total: None)
    started = time.monotonic()
    with session(conn) as sql:
        state = require_state(sql)
        before = _counts(sql)
        config = state.config
        phase = state.advances + 1
        day0 = state.days_simulated
        clock = state.clock + days * DAY_S
        cat = catalogue(config.seed, state.products, state.start_s)
        updated, prices = update_existing_rows(sql, state, days, cat)
        run = _Writer(sql, state, phase=phase, clock=clock, cat=cat, prices=prices)

        existing = state.customers
        new_count = int(
            stream(config.seed, phase, 0, "new-customers").poisson(
                NEW_CUSTOMER_SHARE * config.customers / config.days * days
            )
        )
        new_ids = np.arange(existing + 1, existing + new_count + 1, dtype=np.int64)
        newcomers = draw_traits(
            stream(config.seed, phase, 0, "new-traits"), new_ids, day0, day0 + days - 1, prehistory=False
        )
        total = existing + new_count
        sql.run(f"CREATE OR REPLACE TABLE {META}.CUSTOMER_STATE_NEXT ({customer_state_ddl()})")
        report_progress("customers", 0, total)
        for chunk, low, high in _chunks(total, state.chunk_customers):
            stored = read_traits(sql, low, min(high, existing))
            fresh = newcomers.take(np.flatnonzero((new_ids >= low) & (new_ids <= high)))
            traits = Traits.concat([stored, fresh])
            events = simulate(
                traits, stream(config.seed, phase, chunk, "days"), config.start_date, day0, days
            )
            rng = stream(config.seed, phase, chunk, "rows")
            customers = rows.customer_table(rng, fresh, state.start_s, clock, with_language=state.drifted)
            run.write_chunk(chunk, traits, events, customers)
            sql.append(f"{META}.CUSTOMER_STATE_NEXT", traits_table(traits))
            report_progress("customers", high, total)
        sql.flush()
        sql.run(f"DROP TABLE {META}.CUSTOMER_STATE")
        sql.run(f"ALTER TABLE {META}.CUSTOMER_STATE_NEXT RENAME TO {META}.CUSTOMER_STATE")
        state.next_customer_id = total + 1
        state.days_simulated = day0 + days
        state.advances = phase
        write_state(sql, state)
        counts = _counts(sql)
    return {
        "tables": counts,
        "inserted": {name: counts[name] - before.get(name, 0) for name in counts},
        "updated": updated,
        "through": state.through.isoformat(),
        "bad_rows": run.bad_counts,
        "seconds": round(time.monotonic() - started, 2),
    }


def drift(conn: Any) -> dict[str, Any]:
    """Change the source's schema like an upstream team would: add CUSTOMERS.PREFERRED_LANGUAGE and
    retype SUPPORT_TICKETS.SATISFACTION_SCORE NUMBER(1,0) -> VARCHAR; bump UPDATED_AT on some rows of both
    tables (to the last moment of the simulated day) so the next ingestion window carries drifted rows.
    A second call changes nothing and reports no changes."""
    with session(conn) as sql:
        return apply_drift(sql)


# --- helpers -------------------------------------------------------------------------------------------


def _counts(sql: Sql) -> dict[str, int]:
    present = sql.tables("RAW")
    return {
        name: (int(sql.run(f"SELECT COUNT(*) FROM {RAW}.{name}")[0][0]) if name in present else 0)
        for name in schema.TABLES
    }


def _create_tables(sql: Sql) -> None:
    sql.run(f"CREATE SCHEMA IF NOT EXISTS {RAW}")
    for table in schema.TABLES.values():
        sql.run(table.ddl(f"{RAW}.{table.name}"))
    create_meta_tables(sql)


def _chunks(total: int, size: int) -> Iterator[tuple[int, int, int]]:
    """(chunk number, first id, last id) of customers 1..total in chunks of `size`."""
    for chunk in range((total + size - 1) // size):
        low = chunk * size + 1
        yield chunk, low, min(total, low + size - 1)


@dataclass
class _Writer:
    """New rows of one command (phase): built from simulated events with ids continuing from the state,
    made bad at the configured rate, queued for loading."""

    sql: Sql
    state: GeneratorState
    phase: int
    clock: int
    cat: Catalogue
    prices: PriceBook
    bad_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(bad.BAD_CLASSES, 0))

    def write_chunk(self, chunk: int, traits: Traits, events: Events, customers: pa.Table) -> None:
        """A chunk's customers plus their orders, items and tickets."""
        state, seed = self.state, self.state.config.seed
        rng = stream(seed, self.phase, chunk, "orders")
        orders, items = rows.order_tables(
            seed,
            rng,
            traits,
            events,
            self.prices,
            self.cat,
            state.next_order_id,
            state.next_order_item_id,
            state.start_s,
            self.clock,
        )
        tickets = rows.ticket_table(
            seed, rng, traits, events, state.next_ticket_id, state.start_s, self.clock
        )
        state.next_order_id += orders.num_rows
        state.next_order_item_id += items.num_rows
        state.next_ticket_id += tickets.num_rows
        for name, table in (
            ("CUSTOMERS", customers),
            ("ORDERS", orders),
            ("ORDER_ITEMS", items),
            ("SUPPORT_TICKETS", tickets),
        ):
            self.insert(name, table, chunk)

    def insert(self, name: str, table: pa.Table, chunk: int) -> None:
        config = self.state.config
        if config.bad_rate > 0:
            rng = stream(config.seed, self.phase, chunk, f"bad-{name}")
            table, register = bad.inject(name, table, rng, config.bad_rate, schema.TABLES[name].primary_key)
            for kind in register.column("BAD_CLASS").to_pylist():
                self.bad_counts[kind] += 1
            self.sql.append(f"{META}.INJECTED_BAD_ROWS", register)
        self.sql.append(f"{RAW}.{name}", table)
