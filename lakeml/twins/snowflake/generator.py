"""The churn data generator: `seed`, `advance`, `drift`, `reset` and `table_counts` of the source.

Writes RETAIL.RAW (the five tables of `schema.TABLES`) through a real snowflake connection, and keeps its
own state in RETAIL.LAKEML_META (never extracted): GENERATOR_STATE (seed, config, clock, next ids),
CUSTOMER_STATE (each customer's hidden traits and churn state) and INJECTED_BAD_ROWS (the register of
bad rows). See docs/source-data.md for the model and the planted signal.

Determinism: every random draw comes from a stream keyed by (seed, phase, customer chunk, purpose) or
from a hash of (seed, row id); chunks have a fixed size, so the same seed and the same sequence of
commands give identical tables, independent of timing. The clock is the simulated end of the last day
(23:59:59 of `through`); nothing is ever written with an UPDATED_AT after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from ingestion import schema
from lakeml.core.errors import UsageError
from lakeml.twins.snowflake.gen import bad, rows
from lakeml.twins.snowflake.gen.rng import stream
from lakeml.twins.snowflake.gen.sim import (
    DAY_S,
    NEVER,
    Traits,
    draw_traits,
    order_state,
    simulate,
    ticket_state,
)
from lakeml.twins.snowflake.gen.sql import META, RAW, Sql, session

ProgressFn = Callable[[str, int, int], None]

CHUNK_CUSTOMERS = 20_000  # fixed: part of the random streams' keys, stored in the state
STATE_VERSION = 1
NEW_CUSTOMER_SHARE = 0.35  # new sign-ups per day in `advance` = this * customers / days of the seed
PROFILE_EDITS_PER_DAY = 0.0015  # chance a customer edits their profile on a given day
DRIFT_ADDED = schema.DRIFT_ADDED_COLUMN
DRIFT_RETYPED = schema.DRIFT_RETYPED_COLUMN

_STATE_COLUMNS = {
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
assert list(_STATE_COLUMNS) == Traits.names()


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


# --- public API ----------------------------------------------------------------------------------------


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
        if any(counts.values()) or sql.read_state() is not None:
            raise UsageError(
                f"the source already has data ({sum(counts.values()):,} rows in {RAW}); run "
                "`lakeml source reset --yes` to start again, or `lakeml source advance --days N` to add days"
            )
        _create_tables(sql)
        start_s = rows.epoch_seconds(config.start_date)
        clock = start_s + config.days * DAY_S - 1
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(config).items()},
            "days_simulated": config.days,
            "chunk_customers": CHUNK_CUSTOMERS,
            "products": int(np.clip(config.customers // 25, 200, 5_000)),
            "next_customer_id": 1,
            "next_order_id": 1,
            "next_order_item_id": 1,
            "next_ticket_id": 1,
            "advances": 0,
            "drifted": False,
        }
        bad_counts: dict[str, int] = dict.fromkeys(bad.BAD_CLASSES, 0)
        cat = rows.catalogue(config.seed, state["products"], start_s)
        prices = rows.PriceBook.with_changes(
            stream(config.seed, 0, 0, "prices"), cat.base_cents, cat.active, 0, config.days
        )
        final_price, last_day = prices.final()
        updated = np.where(last_day < NEVER, prices.last_change_seconds(start_s), cat.created_s)
        _insert(sql, "PRODUCTS", rows.product_table(cat, final_price, updated), config, 0, 0, bad_counts)

        total = config.customers
        chunks = range((total + CHUNK_CUSTOMERS - 1) // CHUNK_CUSTOMERS)
        report_progress("customers", 0, total)
        for chunk in chunks:
            low = chunk * CHUNK_CUSTOMERS + 1
            high = min(total, low + CHUNK_CUSTOMERS - 1)
            ids = np.arange(low, high + 1, dtype=np.int64)
            traits = draw_traits(
                stream(config.seed, 0, chunk, "traits"), ids, 0, config.days - 1, prehistory=True
            )
            events = simulate(
                traits, stream(config.seed, 0, chunk, "days"), config.start_date, 0, config.days
            )
            rng = stream(config.seed, 0, chunk, "rows")
            customers = rows.customer_table(rng, traits, start_s, clock, with_language=False)
            _write_chunk(
                sql,
                state,
                config,
                0,
                chunk,
                traits,
                events,
                customers,
                prices,
                cat,
                start_s,
                clock,
                bad_counts,
            )
            sql.append(f"{META}.CUSTOMER_STATE", _traits_table(traits))
            report_progress("customers", high, total)
        sql.flush()
        state["next_customer_id"] = total + 1
        state["through"] = (config.start_date + timedelta(days=config.days - 1)).isoformat()
        sql.write_state(state)
        counts = _counts(sql)
    seconds = time.monotonic() - started
    return {
        "tables": counts,
        "through": state["through"],
        "bad_rows": bad_counts,
        "seconds": round(seconds, 2),
        "rows_per_second": round(sum(counts.values()) / max(seconds, 1e-9)),
        "config": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(config).items()},
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
        state = sql.read_state()
        if state is None:
            raise UsageError("the source has not been seeded; run `lakeml source seed` first")
        before = _counts(sql)
        config = _config(state)
        phase = state["advances"] + 1
        start_s = rows.epoch_seconds(config.start_date)
        day0 = state["days_simulated"]
        old_clock = start_s + day0 * DAY_S - 1
        clock = old_clock + days * DAY_S
        bad_counts: dict[str, int] = dict.fromkeys(bad.BAD_CLASSES, 0)
        updated = {
            "ORDERS": _advance_orders(sql, config.seed, old_clock, clock),
            "SUPPORT_TICKETS": _advance_tickets(sql, config.seed, old_clock, clock),
            "CUSTOMERS": _edit_profiles(sql, state, phase, old_clock, days),
        }
        cat = rows.catalogue(config.seed, state["products"], start_s)
        prices, updated["PRODUCTS"] = _change_prices(sql, cat, config.seed, phase, day0, days, start_s)

        existing = state["next_customer_id"] - 1
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
        sql.run(f"CREATE OR REPLACE TABLE {META}.CUSTOMER_STATE_NEXT ({_state_ddl()})")
        report_progress("customers", 0, total)
        for chunk in range((total + CHUNK_CUSTOMERS - 1) // CHUNK_CUSTOMERS):
            low = chunk * CHUNK_CUSTOMERS + 1
            high = min(total, low + CHUNK_CUSTOMERS - 1)
            stored = _read_traits(sql, low, min(high, existing))
            fresh = newcomers.take(np.flatnonzero((new_ids >= low) & (new_ids <= high)))
            traits = Traits.concat([stored, fresh])
            events = simulate(
                traits, stream(config.seed, phase, chunk, "days"), config.start_date, day0, days
            )
            rng = stream(config.seed, phase, chunk, "rows")
            customers = rows.customer_table(rng, fresh, start_s, clock, with_language=state["drifted"])
            _write_chunk(
                sql,
                state,
                config,
                phase,
                chunk,
                traits,
                events,
                customers,
                prices,
                cat,
                start_s,
                clock,
                bad_counts,
            )
            sql.append(f"{META}.CUSTOMER_STATE_NEXT", _traits_table(traits))
            report_progress("customers", high, total)
        sql.flush()
        sql.run(f"DROP TABLE {META}.CUSTOMER_STATE")
        sql.run(f"ALTER TABLE {META}.CUSTOMER_STATE_NEXT RENAME TO {META}.CUSTOMER_STATE")
        through = date.fromisoformat(state["through"]) + timedelta(days=days)
        state.update(
            next_customer_id=total + 1,
            days_simulated=day0 + days,
            advances=phase,
            through=through.isoformat(),
        )
        sql.write_state(state)
        counts = _counts(sql)
    return {
        "tables": counts,
        "inserted": {name: counts[name] - before.get(name, 0) for name in counts},
        "updated": updated,
        "through": state["through"],
        "bad_rows": bad_counts,
        "seconds": round(time.monotonic() - started, 2),
    }


def drift(conn: Any) -> dict[str, Any]:
    """Change the source's schema like an upstream team would: add CUSTOMERS.PREFERRED_LANGUAGE and
    retype SUPPORT_TICKETS.SATISFACTION_SCORE NUMBER(1,0) -> VARCHAR; bump UPDATED_AT on some rows of both
    tables (to the last moment of the simulated day) so the next ingestion window carries drifted rows.
    A second call changes nothing and reports no changes."""
    with session(conn) as sql:
        state = sql.read_state()
        if state is None:
            raise UsageError("the source has not been seeded; run `lakeml source seed` first")
        if state["drifted"]:
            return {
                "changes": [],
                "note": "the source has drifted already; `lakeml source reset --yes` undoes it",
            }
        stamp = datetime.fromisoformat(state["through"]) + timedelta(
            hours=23, minutes=59, seconds=59, microseconds=900_000
        )
        at = f"TO_TIMESTAMP_NTZ('{stamp.isoformat(sep=' ')}')"
        table, column, new_type = DRIFT_ADDED
        sql.run(f"ALTER TABLE {RAW}.{table} ADD COLUMN {column} {new_type}")
        languages = " ".join(f"WHEN {i} THEN '{lang}'" for i, lang in enumerate(rows.LANGUAGES))
        touched = {
            table: _count_update(
                sql.run(
                    f"UPDATE {RAW}.{table} SET {column} = CASE MOD(CUSTOMER_ID, {len(rows.LANGUAGES)}) {languages} END, "
                    f"UPDATED_AT = {at} WHERE MOD(CUSTOMER_ID, 10) = 3 AND {_good('CUSTOMERS', 'CUSTOMER_ID')}"
                )
            )
        }
        table, column, _old_type, new_type = DRIFT_RETYPED
        # Snowflake cannot ALTER a NUMBER column to VARCHAR: rebuild the table (CTAS) and rename it.
        columns = sql.columns("RAW", table)
        select = ", ".join(f"CAST({c} AS {new_type}) AS {c}" if c == column else c for c in columns)
        sql.run(f"CREATE OR REPLACE TABLE {RAW}.{table}__DRIFT AS SELECT {select} FROM {RAW}.{table}")
        sql.run(f"DROP TABLE {RAW}.{table}")
        sql.run(f"ALTER TABLE {RAW}.{table}__DRIFT RENAME TO {RAW}.{table}")
        touched[table] = _count_update(
            sql.run(
                f"UPDATE {RAW}.{table} SET UPDATED_AT = {at} WHERE {column} IS NOT NULL "
                f"AND MOD(TICKET_ID, 10) = 3 AND {_good(table, 'TICKET_ID')}"
            )
        )
        state["drifted"] = True
        sql.write_state(state)
    return {
        "changes": [
            {
                "table": DRIFT_ADDED[0],
                "kind": "added",
                "column": DRIFT_ADDED[1],
                "from": None,
                "to": DRIFT_ADDED[2],
            },
            {
                "table": DRIFT_RETYPED[0],
                "kind": "retyped",
                "column": DRIFT_RETYPED[1],
                "from": DRIFT_RETYPED[2],
                "to": DRIFT_RETYPED[3],
            },
        ],
        "rows_updated": touched,
        "updated_at": stamp.isoformat(),
    }


# --- helpers -------------------------------------------------------------------------------------------


def _config(state: dict[str, Any]) -> SeedConfig:
    return SeedConfig(
        customers=state["customers"],
        days=state["days"],
        seed=state["seed"],
        bad_rate=state["bad_rate"],
        start_date=date.fromisoformat(state["start_date"]),
    )


def _counts(sql: Sql) -> dict[str, int]:
    present = sql.tables("RAW")
    return {
        name: (int(sql.run(f"SELECT COUNT(*) FROM {RAW}.{name}")[0][0]) if name in present else 0)
        for name in schema.TABLES
    }


def _state_ddl() -> str:
    return ", ".join(f"{name} {kind}" for name, kind in _STATE_COLUMNS.items())


def _create_tables(sql: Sql) -> None:
    sql.run(f"CREATE SCHEMA IF NOT EXISTS {RAW}")
    sql.run(f"CREATE SCHEMA IF NOT EXISTS {META}")
    for table in schema.TABLES.values():
        sql.run(table.ddl(f"{RAW}.{table.name}"))
    sql.run(f"CREATE OR REPLACE TABLE {META}.CUSTOMER_STATE ({_state_ddl()})")
    sql.run(
        f"CREATE OR REPLACE TABLE {META}.INJECTED_BAD_ROWS (TABLE_NAME VARCHAR, BAD_CLASS VARCHAR, "
        "PK_VALUE VARCHAR, UPDATED_AT TIMESTAMP_NTZ, COLUMN_NAME VARCHAR, ROW_JSON VARCHAR)"
    )


def _traits_table(traits: Traits) -> pa.Table:
    return pa.table({name: pa.array(getattr(traits, name)) for name in Traits.names()})


def _read_traits(sql: Sql, low: int, high: int) -> Traits:
    if high < low:
        return Traits(**{n: np.zeros(0, dtype=_STATE_DTYPES[n]) for n in Traits.names()})
    table = sql.arrow(
        f"SELECT {', '.join(Traits.names())} FROM {META}.CUSTOMER_STATE "
        f"WHERE CUSTOMER_ID BETWEEN {low} AND {high} ORDER BY CUSTOMER_ID"
    )
    return Traits(
        **{n: table.column(n).to_numpy(zero_copy_only=False).astype(_STATE_DTYPES[n]) for n in Traits.names()}
    )


_STATE_DTYPES: dict[str, Any] = {
    n: (bool if kind == "BOOLEAN" else np.float64 if kind == "FLOAT" else np.int64)
    for n, kind in _STATE_COLUMNS.items()
}
_STATE_DTYPES["CHANNEL"] = np.int8


def _write_chunk(
    sql: Sql,
    state: dict[str, Any],
    config: SeedConfig,
    phase: int,
    chunk: int,
    traits: Traits,
    events: Any,
    customers: pa.Table,
    prices: rows.PriceBook,
    cat: rows.Catalogue,
    start_s: int,
    clock: int,
    bad_counts: dict[str, int],
) -> None:
    """Build a chunk's orders, items and tickets (ids continue from the state), add bad rows, load all."""
    rng = stream(config.seed, phase, chunk, "orders")
    orders, items = rows.order_tables(
        config.seed,
        rng,
        traits,
        events,
        prices,
        cat,
        state["next_order_id"],
        state["next_order_item_id"],
        start_s,
        clock,
    )
    tickets = rows.ticket_table(config.seed, rng, traits, events, state["next_ticket_id"], start_s, clock)
    state["next_order_id"] += orders.num_rows
    state["next_order_item_id"] += items.num_rows
    state["next_ticket_id"] += tickets.num_rows
    for name, table in (
        ("CUSTOMERS", customers),
        ("ORDERS", orders),
        ("ORDER_ITEMS", items),
        ("SUPPORT_TICKETS", tickets),
    ):
        _insert(sql, name, table, config, phase, chunk, bad_counts)


def _insert(
    sql: Sql,
    name: str,
    table: pa.Table,
    config: SeedConfig,
    phase: int,
    chunk: int,
    bad_counts: dict[str, int],
) -> None:
    if config.bad_rate > 0:
        rng = stream(config.seed, phase, chunk, f"bad-{name}")
        table, register = bad.inject(name, table, rng, config.bad_rate, schema.TABLES[name].primary_key)
        for kind in register.column("BAD_CLASS").to_pylist():
            bad_counts[kind] += 1
        sql.append(f"{META}.INJECTED_BAD_ROWS", register)
    sql.append(f"{RAW}.{name}", table)


def _good(table: str, key: str) -> str:
    """SQL condition: the row has a key and is not a registered bad row (those are never updated, so the
    register's UPDATED_AT keeps pointing at them)."""
    return (
        f"{key} IS NOT NULL AND {key} NOT IN (SELECT CAST(PK_VALUE AS NUMBER(38,0)) FROM {META}.INJECTED_BAD_ROWS "
        f"WHERE TABLE_NAME = '{table}' AND PK_VALUE IS NOT NULL)"
    )


def _count_update(result: list[tuple[Any, ...]]) -> int:
    return int(result[0][0]) if result else 0


def _ts_literal(seconds: int) -> str:
    return f"TO_TIMESTAMP_NTZ('{datetime(1970, 1, 1) + timedelta(seconds=seconds):%Y-%m-%d %H:%M:%S}')"


def _seconds(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.timestamp("us")).cast(pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000


def _apply_updates(sql: Sql, table: str, key: str, changes: pa.Table) -> int:
    """Stage `changes` (key + new values) in LAKEML_META and apply them with one UPDATE … FROM."""
    if changes.num_rows == 0:
        return 0
    staging = f"{META}.STG_{table}"
    columns = changes.column_names
    sql.run(
        f"CREATE OR REPLACE TABLE {staging} AS SELECT {', '.join(columns)} FROM {RAW}.{table} WHERE 1 = 0"
    )
    sql.load(staging, changes)
    assignments = ", ".join(f"{c} = s.{c}" for c in columns if c != key)
    result = sql.run(f"UPDATE {RAW}.{table} SET {assignments} FROM {staging} s WHERE {table}.{key} = s.{key}")
    sql.run(f"DROP TABLE {staging}")
    return _count_update(result)


def _advance_orders(sql: Sql, seed: int, old_clock: int, clock: int) -> int:
    """Move open orders along their (id-determined) life cycle to the new clock."""
    open_orders = sql.arrow(
        f"SELECT ORDER_ID, ORDER_TS, STATUS FROM {RAW}.ORDERS WHERE {_good('ORDERS', 'ORDER_ID')} AND "
        f"(STATUS IN ('placed', 'shipped') OR (STATUS = 'delivered' AND UPDATED_AT > {_ts_literal(old_clock - 31 * DAY_S)})) "
        "ORDER BY ORDER_ID"
    )
    if open_orders.num_rows == 0:
        return 0
    ids = open_orders.column("ORDER_ID").to_numpy(zero_copy_only=False).astype(np.int64)
    status, updated = order_state(seed, ids, _seconds(open_orders.column("ORDER_TS")), clock)
    names = np.array(schema.ORDER_STATUSES, dtype=object)[status]
    changed = names != np.array(open_orders.column("STATUS").to_pylist(), dtype=object)
    changes = pa.table(
        {
            "ORDER_ID": pa.array(ids[changed]),
            "STATUS": pa.array(names[changed], pa.string()),
            "UPDATED_AT": rows.ts_array(updated[changed]),
        }
    )
    return _apply_updates(sql, "ORDERS", "ORDER_ID", changes)


def _advance_tickets(sql: Sql, seed: int, old_clock: int, clock: int) -> int:
    """Move unfinished tickets along their life cycle: reply, resolution (+ survey score), closing."""
    open_tickets = sql.arrow(
        f"SELECT t.TICKET_ID, t.CREATED_AT, t.SEVERITY, t.STATUS, s.SATISFACTION FROM {RAW}.SUPPORT_TICKETS t "
        f"JOIN {META}.CUSTOMER_STATE s ON t.CUSTOMER_ID = s.CUSTOMER_ID WHERE {_good('SUPPORT_TICKETS', 't.TICKET_ID')} "
        "AND t.STATUS IN ('open', 'pending', 'resolved') ORDER BY t.TICKET_ID"
    )
    if open_tickets.num_rows == 0:
        return 0
    ids = open_tickets.column("TICKET_ID").to_numpy(zero_copy_only=False).astype(np.int64)
    severity_index = {name: i for i, name in enumerate(schema.TICKET_SEVERITIES)}
    severity = np.array(
        [severity_index[s] for s in open_tickets.column("SEVERITY").to_pylist()], dtype=np.int64
    )
    satisfaction = open_tickets.column("SATISFACTION").to_numpy(zero_copy_only=False).astype(np.float64)
    status, resolved_at, score, updated = ticket_state(
        seed, ids, _seconds(open_tickets.column("CREATED_AT")), severity, satisfaction, clock
    )
    names = np.array(schema.TICKET_STATUSES, dtype=object)[status]
    changed = names != np.array(open_tickets.column("STATUS").to_pylist(), dtype=object)
    changes = pa.table(
        {
            "TICKET_ID": pa.array(ids[changed]),
            "STATUS": pa.array(names[changed], pa.string()),
            "SATISFACTION_SCORE": pa.array(score[changed], pa.int64(), mask=score[changed] == 0),
            "RESOLVED_AT": rows.ts_array(
                np.maximum(resolved_at[changed], 0), valid=resolved_at[changed] >= 0
            ),
            "UPDATED_AT": rows.ts_array(updated[changed]),
        }
    )
    return _apply_updates(sql, "SUPPORT_TICKETS", "TICKET_ID", changes)


def _edit_profiles(sql: Sql, state: dict[str, Any], phase: int, old_clock: int, days: int) -> int:
    """Some existing customers change e-mail domain, opt-in, loyalty tier or region during the new days."""
    existing = state["next_customer_id"] - 1
    rng = stream(state["seed"], phase, 0, "profile-edits")
    count = int(rng.binomial(existing, 1 - np.exp(-PROFILE_EDITS_PER_DAY * days)))
    if count == 0:
        return 0
    ids = np.sort(rng.choice(existing, size=count, replace=False) + 1).astype(np.int64)
    kind = rng.integers(0, 4, count)
    stamp = old_clock + 1 + rng.integers(0, days * DAY_S, count)
    domain = rows.DOMAINS[rng.integers(0, len(rows.DOMAINS), count)]
    tier = np.array(schema.LOYALTY_TIERS, dtype=object)[rng.integers(0, len(schema.LOYALTY_TIERS), count)]
    region = np.array(schema.REGIONS, dtype=object)[rng.integers(0, len(schema.REGIONS), count)]
    value = np.select([kind == 0, kind == 2, kind == 3], [domain, tier, region], default="")
    edits = pa.table(
        {
            "CUSTOMER_ID": pa.array(ids),
            "EDIT": pa.array(
                np.array(["email", "opt_in", "tier", "region"], dtype=object)[kind], pa.string()
            ),
            "VALUE": pa.array(value.astype(object), pa.string()),
            "UPDATED_AT": rows.ts_array(stamp),
        }
    )
    staging = f"{META}.STG_CUSTOMER_EDITS"
    sql.run(
        f"CREATE OR REPLACE TABLE {staging} (CUSTOMER_ID NUMBER(38,0), EDIT VARCHAR, VALUE VARCHAR, UPDATED_AT TIMESTAMP_NTZ)"
    )
    sql.load(staging, edits)
    result = sql.run(
        f"UPDATE {RAW}.CUSTOMERS SET "
        "EMAIL = CASE WHEN e.EDIT = 'email' THEN SPLIT_PART(CUSTOMERS.EMAIL, '@', 1) || '@' || e.VALUE ELSE CUSTOMERS.EMAIL END, "
        "MARKETING_OPT_IN = CASE WHEN e.EDIT = 'opt_in' THEN NOT CUSTOMERS.MARKETING_OPT_IN ELSE CUSTOMERS.MARKETING_OPT_IN END, "
        "LOYALTY_TIER = CASE WHEN e.EDIT = 'tier' THEN e.VALUE ELSE CUSTOMERS.LOYALTY_TIER END, "
        "REGION = CASE WHEN e.EDIT = 'region' THEN e.VALUE ELSE CUSTOMERS.REGION END, "
        f"UPDATED_AT = e.UPDATED_AT FROM {staging} e WHERE CUSTOMERS.CUSTOMER_ID = e.CUSTOMER_ID "
        f"AND {_good('CUSTOMERS', 'CUSTOMERS.CUSTOMER_ID')}"
    )
    sql.run(f"DROP TABLE {staging}")
    return _count_update(result)


def _change_prices(
    sql: Sql, cat: rows.Catalogue, seed: int, phase: int, day0: int, days: int, start_s: int
) -> tuple[rows.PriceBook, int]:
    """Current prices plus new dated changes in the new days; the changes update PRODUCTS."""
    current = sql.arrow(
        f"SELECT PRODUCT_ID, ABS(LIST_PRICE) AS PRICE, UPDATED_AT FROM {RAW}.PRODUCTS WHERE PRODUCT_ID IS NOT NULL "
        "ORDER BY PRODUCT_ID, UPDATED_AT"
    )
    ids = current.column("PRODUCT_ID").to_numpy(zero_copy_only=False).astype(np.int64)
    price = np.round(np.asarray(current.column("PRICE").to_pylist(), dtype=np.float64) * 100).astype(np.int64)
    base = cat.base_cents.copy()
    base[ids - 1] = price  # ordered by UPDATED_AT: the latest row of a key wins
    prices = rows.PriceBook.with_changes(stream(seed, phase, 0, "prices"), base, cat.active, day0, days)
    final, last_day = prices.final()
    changed = np.flatnonzero(last_day < NEVER)
    bad_keys = {
        int(r[0])
        for r in sql.run(
            f"SELECT PK_VALUE FROM {META}.INJECTED_BAD_ROWS WHERE TABLE_NAME = 'PRODUCTS' AND PK_VALUE IS NOT NULL"
        )
    }
    changed = np.array([i for i in changed if int(cat.product_id[i]) not in bad_keys], dtype=np.int64)
    if not len(changed):
        return prices, 0
    changes = pa.table(
        {
            "PRODUCT_ID": pa.array(cat.product_id[changed]),
            "LIST_PRICE": rows.money(final[changed]),
            "UPDATED_AT": rows.ts_array(prices.last_change_seconds(start_s)[changed]),
        }
    )
    return prices, _apply_updates(sql, "PRODUCTS", "PRODUCT_ID", changes)
