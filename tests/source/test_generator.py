"""The churn data generator through the real CLI: determinism, advance, bad rows, drift, signal, scale."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from ingestion.schema import TABLES, Table
from lakeml.twins.snowflake.gen.bad import BAD_CLASSES
from tests.source.churn_features import FEATURES, snapshot_frame

pytestmark = pytest.mark.xdist_group("source-generator")

SMALL = ("--customers", "1500", "--days", "200", "--seed", "11", "--bad-rate", "0.02")
SEEDED_CLOCK = datetime(2025, 7, 20)  # end of the 200th day from 2025-01-01
ADVANCED_CLOCK = SEEDED_CLOCK + timedelta(days=10)


@pytest.fixture(scope="module")
def twins(source_home):
    """Two homes seeded alike (with bad rows), digested, then both advanced by 10 days."""
    homes = [source_home("twin-a"), source_home("twin-b")]
    seeded = [h.ok("source", "seed", *SMALL) for h in homes]
    seed_digests = [h.digest() for h in homes]
    advanced = [h.ok("source", "advance", "--days", "10") for h in homes]
    return {
        "homes": homes,
        "seeded": seeded,
        "seed_digests": seed_digests,
        "advanced": advanced,
        "advance_digests": [h.digest() for h in homes],
    }


@pytest.fixture(scope="module")
def default_home(source_home):
    """The default demo scale (5,000 customers, 450 days, seed 42), no bad rows."""
    home = source_home("default")
    report = home.ok("source", "seed")
    return home, report


def test_same_seed_gives_identical_tables(twins):
    first, second = twins["seed_digests"]
    assert first == second
    assert twins["seeded"][0]["tables"] == twins["seeded"][1]["tables"]


def test_same_seed_then_same_advance_gives_identical_tables(twins):
    first, second = twins["advance_digests"]
    assert first == second
    assert first != twins["seed_digests"][0]


def test_different_seed_gives_different_tables(twins, default_home):
    home, _ = default_home
    theirs = home.digest()
    ours = twins["seed_digests"][0]
    assert all(theirs[name] != ours[name] for name in TABLES)


def test_seed_report_counts_match_the_tables(twins):
    home = twins["homes"][0]
    report = twins["advanced"][0]
    for name, rows in report["tables"].items():
        assert home.query(f"SELECT COUNT(*) FROM RETAIL.RAW.{name}")[0][0] == rows
    assert home.ok("source", "status")["tables"] == report["tables"]


def test_advance_inserts_new_rows_and_updates_old_ones_inside_the_new_days(twins):
    home = twins["homes"][0]
    seeded, advanced = twins["seeded"][0], twins["advanced"][0]
    assert seeded["through"] == "2025-07-19" and advanced["through"] == "2025-07-29"
    old_clock, new_clock = SEEDED_CLOCK, ADVANCED_CLOCK
    for name in ("ORDERS", "ORDER_ITEMS", "SUPPORT_TICKETS", "CUSTOMERS"):
        assert advanced["inserted"][name] > 0, name
    for name in ("ORDERS", "SUPPORT_TICKETS", "CUSTOMERS", "PRODUCTS"):
        assert advanced["updated"][name] > 0, name
    for name in TABLES:
        newest = home.query(f"SELECT MAX(UPDATED_AT) FROM RETAIL.RAW.{name}")[0][0]
        assert newest < new_clock, f"{name}: UPDATED_AT {newest} is after the simulated clock"
    # updated rows: keys that existed before the advance now carry an UPDATED_AT inside the new days
    max_seeded_order = seeded["tables"]["ORDERS"]
    moved = home.query(
        "SELECT COUNT(*), MIN(UPDATED_AT) FROM RETAIL.RAW.ORDERS "
        f"WHERE ORDER_ID <= {max_seeded_order} AND UPDATED_AT >= '{old_clock:%Y-%m-%d}'"
    )[0]
    assert moved[0] > 0 and old_clock <= moved[1] < new_clock
    statuses = dict(home.query("SELECT STATUS, COUNT(*) FROM RETAIL.RAW.ORDERS GROUP BY 1"))
    assert {"placed", "shipped", "delivered", "cancelled", "returned"} <= set(statuses)


def test_orders_add_up_to_their_items(default_home):
    home, _ = default_home
    mismatched = home.query(
        "SELECT COUNT(*) FROM (SELECT o.ORDER_ID, o.GROSS_AMOUNT, o.DISCOUNT_AMOUNT, o.NET_AMOUNT, o.ITEM_COUNT, "
        "ROUND(SUM(i.QUANTITY * i.UNIT_PRICE), 2) AS G, ROUND(SUM(i.DISCOUNT_AMOUNT), 2) AS D, COUNT(*) AS N "
        "FROM RETAIL.RAW.ORDERS o JOIN RETAIL.RAW.ORDER_ITEMS i ON o.ORDER_ID = i.ORDER_ID GROUP BY 1, 2, 3, 4, 5) "
        "WHERE G <> GROSS_AMOUNT OR D <> DISCOUNT_AMOUNT OR NET_AMOUNT <> GROSS_AMOUNT - DISCOUNT_AMOUNT "
        "OR N <> ITEM_COUNT"
    )[0][0]
    assert mismatched == 0
    orphans = home.query(
        "SELECT COUNT(*) FROM RETAIL.RAW.ORDER_ITEMS i LEFT JOIN RETAIL.RAW.PRODUCTS p "
        "ON i.PRODUCT_ID = p.PRODUCT_ID WHERE p.PRODUCT_ID IS NULL"
    )[0][0]
    assert orphans == 0


def test_simple_rfm_model_finds_the_planted_churn_signal(default_home):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    home, _ = default_home
    customers = home.frame("SELECT CUSTOMER_ID, SIGNUP_AT, SIGNUP_CHANNEL FROM RETAIL.RAW.CUSTOMERS")
    orders = home.frame(
        "SELECT CUSTOMER_ID, ORDER_TS, GROSS_AMOUNT::FLOAT AS GROSS_AMOUNT, "
        "DISCOUNT_AMOUNT::FLOAT AS DISCOUNT_AMOUNT, NET_AMOUNT::FLOAT AS NET_AMOUNT FROM RETAIL.RAW.ORDERS"
    )
    tickets = home.frame("SELECT CUSTOMER_ID, CREATED_AT, SEVERITY FROM RETAIL.RAW.SUPPORT_TICKETS")
    snapshots = [date(2025, 6, 1), date(2025, 8, 1), date(2025, 10, 1), date(2025, 12, 15)]
    frames = [snapshot_frame(customers, orders, tickets, s) for s in snapshots]
    train, test = pd.concat(frames[:-1]), frames[-1]
    assert 0.1 < train.label.mean() < 0.5, "churn rate out of a realistic range"
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train[FEATURES], train.label)
    auc = roc_auc_score(test.label, model.predict_proba(test[FEATURES])[:, 1])
    assert auc >= 0.75, f"AUC {auc:.3f} on a later snapshot"


# --- bad rows ----------------------------------------------------------------------------------------------


def _violations(name: str, table: Table, frame: pd.DataFrame) -> set[tuple[str, str | None, str]]:
    """(class, key, UPDATED_AT) of every row breaking the contract in schema.py, found from the data alone."""
    key = table.primary_key
    found: set[tuple[str, str | None, str]] = set()

    def add(kind: str, rows: pd.DataFrame) -> None:
        for pk, ts in zip(rows[key], rows["UPDATED_AT"], strict=True):
            found.add((kind, None if pd.isna(pk) else str(int(pk)), pd.Timestamp(ts).isoformat()))

    add("null_pk", frame[frame[key].isna()])
    keyed = frame[frame[key].notna()]
    add("duplicate_pk", keyed[keyed.duplicated(keep="first")])
    for column in table.columns:
        values = frame[column.name]
        if column.minimum is not None and column.minimum == 0:
            add("negative_amount", frame[values.astype(float) < 0])
        if column.enum:
            add("unknown_enum", frame[values.notna() & ~values.isin(column.enum)])
        if column.not_after_cursor:
            add("future_timestamp", frame[values.notna() & (values > frame["UPDATED_AT"])])
        if column.pattern:
            matches = values.dropna().str.fullmatch(column.pattern).reindex(values.index, fill_value=True)
            add("malformed_email", frame[~matches.astype(bool)])
    return found


def test_bad_rows_are_exactly_the_registered_ones(twins):
    home = twins["homes"][0]
    register = home.frame("SELECT * FROM RETAIL.LAKEML_META.INJECTED_BAD_ROWS")
    assert set(register.BAD_CLASS) == set(BAD_CLASSES)
    for name, table in TABLES.items():
        frame = home.frame(f"SELECT * FROM RETAIL.RAW.{name}")
        mine = register[register.TABLE_NAME.eq(name)]
        registered = {
            (kind, pk, pd.Timestamp(ts).isoformat())
            for kind, pk, ts in zip(mine.BAD_CLASS, mine.PK_VALUE, mine.UPDATED_AT, strict=True)
        }
        assert _violations(name, table, frame) == registered, name


def test_registered_rows_carry_their_defect_and_json(twins):
    home = twins["homes"][0]
    register = home.frame("SELECT * FROM RETAIL.LAKEML_META.INJECTED_BAD_ROWS")
    orders = home.frame("SELECT * FROM RETAIL.RAW.ORDERS")
    for row in register[register.TABLE_NAME == "ORDERS"].itertuples():
        doc = json.loads(row.ROW_JSON)
        assert doc["UPDATED_AT"] == pd.Timestamp(row.UPDATED_AT).isoformat()
        if row.BAD_CLASS == "null_pk":
            assert doc["ORDER_ID"] is None
            match = orders[orders.ORDER_ID.isna() & orders.UPDATED_AT.eq(row.UPDATED_AT)]
            assert len(match) >= 1
        else:
            match = orders[orders.ORDER_ID.eq(int(row.PK_VALUE)) & orders.UPDATED_AT.eq(row.UPDATED_AT)]
            assert len(match) == (2 if row.BAD_CLASS == "duplicate_pk" else 1)
            if row.BAD_CLASS == "future_timestamp":
                assert match.ORDER_TS.iloc[0] > pd.Timestamp("2035-01-01")
    # bad rows were also injected into the advanced days
    late = register[register.UPDATED_AT.ge(pd.Timestamp(SEEDED_CLOCK))]
    assert len(late) > 0


def test_bad_rate_zero_injects_nothing(default_home):
    home, report = default_home
    assert sum(report["bad_rows"].values()) == 0
    assert home.query("SELECT COUNT(*) FROM RETAIL.LAKEML_META.INJECTED_BAD_ROWS")[0][0] == 0
    for name, table in TABLES.items():
        assert _violations(name, table, home.frame(f"SELECT * FROM RETAIL.RAW.{name}")) == set(), name


# --- drift -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drifted(source_home):
    home = source_home("drift")
    seeded = home.ok("source", "seed", "--customers", "600", "--days", "60", "--bad-rate", "0.02")
    report = home.ok("source", "drift")
    return home, seeded, report


def test_drift_adds_and_retypes_a_column_and_reports_it(drifted):
    home, _, report = drifted
    assert report["changes"] == [
        {
            "table": "CUSTOMERS",
            "kind": "added",
            "column": "PREFERRED_LANGUAGE",
            "from": None,
            "to": "VARCHAR",
        },
        {
            "table": "SUPPORT_TICKETS",
            "kind": "retyped",
            "column": "SATISFACTION_SCORE",
            "from": "NUMBER(1,0)",
            "to": "VARCHAR",
        },
    ]
    types = dict(
        home.query(
            "SELECT TABLE_NAME || '.' || COLUMN_NAME, DATA_TYPE FROM RETAIL.INFORMATION_SCHEMA.COLUMNS "
            "WHERE TABLE_SCHEMA = 'RAW' AND COLUMN_NAME IN ('PREFERRED_LANGUAGE', 'SATISFACTION_SCORE')"
        )
    )
    assert types["CUSTOMERS.PREFERRED_LANGUAGE"] == "TEXT"
    assert types["SUPPORT_TICKETS.SATISFACTION_SCORE"] == "TEXT"


def test_drift_puts_drifted_rows_in_the_next_ingestion_window(drifted):
    home, seeded, report = drifted
    stamp = report["updated_at"]
    assert stamp.startswith(seeded["through"])  # the last moment of the simulated day, not later
    for name in ("CUSTOMERS", "SUPPORT_TICKETS"):
        newest = home.query(
            f"SELECT COUNT(*) FROM RETAIL.RAW.{name} WHERE UPDATED_AT = '{stamp.replace('T', ' ')}'"
        )[0][0]
        assert newest == report["rows_updated"][name] > 0
    languages = home.query("SELECT COUNT(*) FROM RETAIL.RAW.CUSTOMERS WHERE PREFERRED_LANGUAGE IS NOT NULL")[
        0
    ][0]
    assert languages == report["rows_updated"]["CUSTOMERS"]


def test_advance_after_drift_writes_the_drifted_shape_and_drift_twice_changes_nothing(drifted):
    home, _, _ = drifted
    advanced = home.ok("source", "advance", "--days", "5")
    assert advanced["inserted"]["CUSTOMERS"] > 0
    assert advanced["updated"]["SUPPORT_TICKETS"] > 0
    new_with_language = home.query(
        "SELECT COUNT(*) FROM RETAIL.RAW.CUSTOMERS WHERE SIGNUP_AT >= '2025-03-02' AND SIGNUP_AT < '2030-01-01' "
        "AND PREFERRED_LANGUAGE IS NOT NULL"
    )[0][0]
    assert new_with_language > 0
    assert home.ok("source", "drift")["changes"] == []


# --- scale -------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_fifty_thousand_customers_load_in_chunks_and_count_right(source_home):
    home = source_home("scale")
    report = home.ok("source", "seed", "--customers", "50000", "--days", "90", "--seed", "5")
    assert report["tables"]["CUSTOMERS"] == 50_000
    ids = home.query(
        "SELECT COUNT(*), COUNT(DISTINCT CUSTOMER_ID), MIN(CUSTOMER_ID), MAX(CUSTOMER_ID) FROM RETAIL.RAW.CUSTOMERS"
    )[0]
    assert ids == (50_000, 50_000, 1, 50_000)
    orders = report["tables"]["ORDERS"]
    assert orders > 50_000  # about 1.5 orders per customer in 90 days
    assert home.query("SELECT COUNT(DISTINCT ORDER_ID), MAX(ORDER_ID) FROM RETAIL.RAW.ORDERS")[0] == (
        orders,
        orders,
    )
    chunks = home.query("SELECT COUNT(DISTINCT FLOOR((CUSTOMER_ID - 1) / 20000)) FROM RETAIL.RAW.ORDERS")[0][
        0
    ]
    assert chunks == 3
    assert date.fromisoformat(report["through"]) == date(2025, 1, 1) + timedelta(days=89)
