"""The update simulation: what happens to rows already in the source when days pass.

`advance` moves open orders and tickets along their life cycles (a pure function of the row id and the
clock, see `sim.order_state`/`sim.ticket_state`), lets some customers edit their profile and changes
some prices, each with an UPDATED_AT inside the new days. Updates are staged into LAKEML_META and applied
with one `UPDATE ... FROM`. Registered bad rows are never updated, so the register keeps pointing at them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from ingestion import schema
from lakeml.twins.snowflake.gen import rows
from lakeml.twins.snowflake.gen.catalogue import Catalogue, PriceBook
from lakeml.twins.snowflake.gen.columns import money, ts_array
from lakeml.twins.snowflake.gen.rng import stream
from lakeml.twins.snowflake.gen.sim import DAY_S, NEVER, order_state, ticket_state
from lakeml.twins.snowflake.gen.sql import META, RAW, Sql
from lakeml.twins.snowflake.gen.state import GeneratorState

PROFILE_EDITS_PER_DAY = 0.0015  # chance a customer edits their profile on a given day


def updatable(table: str, key: str) -> str:
    """SQL condition: the row has a key and is not a registered bad row (those are never updated, so the
    register's UPDATED_AT keeps pointing at them)."""
    return (
        f"{key} IS NOT NULL AND {key} NOT IN (SELECT CAST(PK_VALUE AS NUMBER(38,0)) FROM {META}.INJECTED_BAD_ROWS "
        f"WHERE TABLE_NAME = '{table}' AND PK_VALUE IS NOT NULL)"
    )


def count_updated(result: list[tuple[Any, ...]]) -> int:
    return int(result[0][0]) if result else 0


def _ts_literal(seconds: int) -> str:
    return f"TO_TIMESTAMP_NTZ('{datetime(1970, 1, 1) + timedelta(seconds=seconds):%Y-%m-%d %H:%M:%S}')"


def _seconds(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.timestamp("us")).cast(pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000


def apply_updates(sql: Sql, table: str, key: str, changes: pa.Table) -> int:
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
    return count_updated(result)


def advance_orders(sql: Sql, seed: int, old_clock: int, clock: int) -> int:
    """Move open orders along their (id-determined) life cycle to the new clock."""
    open_orders = sql.arrow(
        f"SELECT ORDER_ID, ORDER_TS, STATUS FROM {RAW}.ORDERS WHERE {updatable('ORDERS', 'ORDER_ID')} AND "
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
            "UPDATED_AT": ts_array(updated[changed]),
        }
    )
    return apply_updates(sql, "ORDERS", "ORDER_ID", changes)


def advance_tickets(sql: Sql, seed: int, old_clock: int, clock: int) -> int:
    """Move unfinished tickets along their life cycle: reply, resolution (+ survey score), closing."""
    open_tickets = sql.arrow(
        f"SELECT t.TICKET_ID, t.CREATED_AT, t.SEVERITY, t.STATUS, s.SATISFACTION FROM {RAW}.SUPPORT_TICKETS t "
        f"JOIN {META}.CUSTOMER_STATE s ON t.CUSTOMER_ID = s.CUSTOMER_ID WHERE {updatable('SUPPORT_TICKETS', 't.TICKET_ID')} "
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
            "RESOLVED_AT": ts_array(np.maximum(resolved_at[changed], 0), valid=resolved_at[changed] >= 0),
            "UPDATED_AT": ts_array(updated[changed]),
        }
    )
    return apply_updates(sql, "SUPPORT_TICKETS", "TICKET_ID", changes)


def edit_profiles(sql: Sql, state: GeneratorState, phase: int, old_clock: int, days: int) -> int:
    """Some existing customers change e-mail domain, opt-in, loyalty tier or region during the new days."""
    existing = state.customers
    rng = stream(state.config.seed, phase, 0, "profile-edits")
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
            "UPDATED_AT": ts_array(stamp),
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
        f"AND {updatable('CUSTOMERS', 'CUSTOMERS.CUSTOMER_ID')}"
    )
    sql.run(f"DROP TABLE {staging}")
    return count_updated(result)


def change_prices(
    sql: Sql, cat: Catalogue, seed: int, phase: int, day0: int, days: int, start_s: int
) -> tuple[PriceBook, int]:
    """Current prices plus new dated changes in the new days; the changes update PRODUCTS."""
    current = sql.arrow(
        f"SELECT PRODUCT_ID, ABS(LIST_PRICE) AS PRICE, UPDATED_AT FROM {RAW}.PRODUCTS WHERE PRODUCT_ID IS NOT NULL "
        "ORDER BY PRODUCT_ID, UPDATED_AT"
    )
    ids = current.column("PRODUCT_ID").to_numpy(zero_copy_only=False).astype(np.int64)
    price = np.round(np.asarray(current.column("PRICE").to_pylist(), dtype=np.float64) * 100).astype(np.int64)
    base = cat.base_cents.copy()
    base[ids - 1] = price  # ordered by UPDATED_AT: the latest row of a key wins
    prices = PriceBook.with_changes(stream(seed, phase, 0, "prices"), base, cat.active, day0, days)
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
            "LIST_PRICE": money(final[changed]),
            "UPDATED_AT": ts_array(prices.last_change_seconds(start_s)[changed]),
        }
    )
    return prices, apply_updates(sql, "PRODUCTS", "PRODUCT_ID", changes)


def update_existing_rows(
    sql: Sql, state: GeneratorState, days: int, cat: Catalogue
) -> tuple[dict[str, int], PriceBook]:
    """Apply `days` more days to the rows already in the source (state: before those days). Returns the
    rows updated per table, and the price book new orders of those days are priced from."""
    seed, phase, old_clock = state.config.seed, state.advances + 1, state.clock
    clock = old_clock + days * DAY_S
    updated = {
        "ORDERS": advance_orders(sql, seed, old_clock, clock),
        "SUPPORT_TICKETS": advance_tickets(sql, seed, old_clock, clock),
        "CUSTOMERS": edit_profiles(sql, state, phase, old_clock, days),
    }
    prices, updated["PRODUCTS"] = change_prices(
        sql, cat, seed, phase, state.days_simulated, days, state.start_s
    )
    return updated, prices
