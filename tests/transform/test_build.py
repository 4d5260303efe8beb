"""One full `lakeml transform` on fixture bronze, shared by the assertions of this module, then a
one-day incremental build compared against a full refresh. All of it runs on one worker (one Spark
home); the builds are the expensive part, the assertions read the lake's Parquet with pyarrow."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import REPO
from tests.transform.bronze import ChurnHistory, write_run
from tests.transform.conftest import Home, Result, partition_files

# Spark builds on 2 shared cores: the shared fixtures can take minutes, beyond the suite default timeout
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_build"), pytest.mark.timeout(1800)]

HISTORY = ChurnHistory(start=date(2025, 1, 1), days=200, customers=24, seed=7)
CUT = HISTORY.end - timedelta(days=1)  # the first build sees everything before the last day
UNCOMMITTED_ORDER = 990_001
EDITED_CUSTOMER = 2
EDITED_ORDER = 5


@pytest.fixture(scope="module")
def built(module_home: Home) -> tuple[Home, Result]:
    """Bronze: one committed initial run per table, a committed run of edits (a profile change, an
    order returned), and an uncommitted run (parts, no manifest). Then `lakeml --json transform --docs`."""
    lake = module_home.lake
    day = CUT.date()
    for table in HISTORY.tables:
        write_run(lake, table, "initial", day, HISTORY.before(table, CUT))
    customer = dict(HISTORY.tables["CUSTOMERS"][EDITED_CUSTOMER - 1])
    customer.update(LOYALTY_TIER="platinum", UPDATED_AT=CUT - timedelta(days=10))
    write_run(lake, "CUSTOMERS", "edits", day, [customer])
    order = dict(next(o for o in HISTORY.tables["ORDERS"] if o["ORDER_ID"] == EDITED_ORDER))
    order.update(STATUS="returned", UPDATED_AT=CUT - timedelta(days=5))
    write_run(lake, "ORDERS", "edits", day, [order])
    ghost = dict(order, ORDER_ID=UNCOMMITTED_ORDER, UPDATED_AT=CUT - timedelta(hours=1))
    write_run(lake, "ORDERS", "in-flight", day, [ghost], commit=False)
    # --docs: the docs site is generated in the same process, reusing the build's Spark session
    return module_home, module_home.lakeml("--json", "transform", "--docs")


def _frame(home: Home, name: str) -> pd.DataFrame:
    return home.table(name).to_pandas()


def test_build_runs_every_model_and_every_test_passes(built: tuple[Home, Result]) -> None:
    _, result = built
    assert result.code == 0, result
    doc = result.json
    assert doc["failed"] == [] and doc["skipped"] == [], doc
    assert doc["models"] == 10
    assert doc["tests"] >= 40 and doc["passed"] == doc["tests"]
    assert set(doc) >= {"models", "tests", "passed", "failed", "skipped", "seconds"}


def test_the_build_publishes_its_run_results_and_the_bronze_runs_it_read(built: tuple[Home, Result]) -> None:
    """Issue 12: dbt's run_results.json reaches the lake (runs/dbt/<invocation>/) with the visibility
    index dbt read, and latest.json points at it; `lakeml transform --json` names the invocation."""
    from lakeml.core.lake.local import LocalLake
    from lakeml.core.lake.runs import latest_dbt_run, read_json

    home, result = built
    doc = result.json
    lake = LocalLake.create(home.lake)
    latest = latest_dbt_run(lake)
    assert latest is not None and latest.invocation_id == doc["invocation_id"]
    assert (latest.target, latest.success, latest.run_results) == ("local", True, doc["run_results"])
    published = read_json(lake, f"runs/dbt/{latest.invocation_id}/run_results.json")
    assert published["metadata"]["invocation_id"] == latest.invocation_id
    assert published["args"]["which"] == "build"  # not the docs generation that ran after it
    assert len(published["results"]) >= doc["models"] + doc["tests"]
    bronze = read_json(lake, f"runs/dbt/{latest.invocation_id}/bronze_runs.json")
    assert {run["run_id"] for run in bronze["orders"]} == {"initial", "edits"}  # not the uncommitted one


def test_only_committed_runs_are_visible(built: tuple[Home, Result]) -> None:
    home, _ = built
    orders = _frame(home, "silver/orders")
    assert UNCOMMITTED_ORDER not in set(orders.order_id)
    assert set(orders._run_id) <= {"initial", "edits"}


def test_silver_has_the_latest_version_of_each_key(built: tuple[Home, Result]) -> None:
    home, _ = built
    orders = _frame(home, "silver/orders")
    assert orders.order_id.is_unique
    assert len(orders) == len(HISTORY.before("ORDERS", CUT))
    assert orders.set_index("order_id").loc[EDITED_ORDER, "status"] == "returned"
    customers = _frame(home, "silver/customers").set_index("customer_id")
    assert customers.loc[EDITED_CUSTOMER, "loyalty_tier"] == "platinum"
    versions = _frame(home, "silver/customer_versions")
    assert (versions.customer_id == EDITED_CUSTOMER).sum() == 2


def test_no_raw_pii_past_silver(built: tuple[Home, Result]) -> None:
    home, _ = built
    for name in ("silver/customers", "silver/customer_versions", "gold/customer_features"):
        columns = {c.lower() for c in home.table(name).column_names}
        assert not columns & {"email", "first_name", "last_name"}, name
    customers = _frame(home, "silver/customers").set_index("customer_id")
    raw = HISTORY.tables["CUSTOMERS"][0]["EMAIL"]
    assert customers.loc[1, "email_sha256"] == hashlib.sha256(raw.strip().lower().encode()).hexdigest()


def _orders_frame() -> pd.DataFrame:
    return pd.DataFrame(HISTORY.before("ORDERS", CUT))


def test_features_count_only_orders_strictly_before_the_snapshot(built: tuple[Home, Result]) -> None:
    """An independent oracle in pandas over the fixture: order counts and spend per window."""
    home, _ = built
    features = _frame(home, "gold/customer_features")
    assert len(features) > 0 and not features.duplicated(["customer_id", "snapshot_date"]).any()
    orders = _orders_frame()
    for row in features.itertuples():
        snapshot = pd.Timestamp(str(row.snapshot_date))
        mine = orders[orders.CUSTOMER_ID.eq(row.customer_id) & orders.ORDER_TS.lt(snapshot)]
        for days, count, spend in (
            (30, row.orders_30d, row.spend_30d),
            (365, row.orders_365d, row.spend_365d),
        ):
            window = mine[mine.ORDER_TS.ge(snapshot - pd.Timedelta(days=days))]
            assert count == len(window), (row.customer_id, row.snapshot_date, days)
            assert spend == pytest.approx(float(window.NET_AMOUNT.sum())), (row.customer_id, days)
        expected_last = (
            (snapshot.normalize() - mine.ORDER_TS.max().normalize()).days if len(mine) else row.tenure_days
        )
        assert row.days_since_last_order == expected_last


def test_training_labels_match_the_next_90_days_and_windows_are_complete(built: tuple[Home, Result]) -> None:
    home, _ = built
    training = _frame(home, "gold/churn_training_set")
    orders = _orders_frame()
    last_day = orders.ORDER_TS.max().normalize()
    assert len(training) > 0
    assert 0 < training.churned.mean() < 1
    for row in training.itertuples():
        snapshot = pd.Timestamp(str(row.snapshot_date))
        assert snapshot + pd.Timedelta(days=90) <= last_day
        ahead = orders[
            orders.CUSTOMER_ID.eq(row.customer_id)
            & orders.ORDER_TS.ge(snapshot)
            & orders.ORDER_TS.lt(snapshot + pd.Timedelta(days=90))
        ]
        assert row.churned == int(len(ahead) == 0), (row.customer_id, row.snapshot_date)


def test_churn_scores_is_empty_but_typed_before_any_batch_scoring(built: tuple[Home, Result]) -> None:
    home, _ = built
    assert not (home.lake / "predictions" / "churn_scores").exists() or not any(
        (home.lake / "predictions" / "churn_scores").iterdir()
    )
    result = built[1]
    assert result.code == 0  # the view over the empty CSV location built and its range test passed


def test_spark_keeps_its_state_under_lakeml_home_not_in_the_repo(built: tuple[Home, Result]) -> None:
    home, _ = built
    for name in ("metastore_db", "spark-warehouse", "derby.log"):
        assert not (REPO / name).exists(), f"{name} was written into the repo"
        assert not (REPO / "dbt_project" / name).exists(), f"{name} was written into dbt_project"
    assert (home.path / "spark" / "metastore_db").is_dir()
    assert (home.path / "dbt" / "target" / "run_results.json").is_file()


def test_docs_generate_documents_every_model_and_column(built: tuple[Home, Result]) -> None:
    home, result = built
    assert result.code == 0, result
    target = home.path / "dbt" / "target"
    assert result.json["docs"] == str(target / "index.html")
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    assert len(models) == 10
    for uid, node in models.items():
        assert node["description"], f"{uid} has no description"
        assert uid in catalog["nodes"], f"{uid} missing from the catalog"
        built_columns = {c.lower() for c in catalog["nodes"][uid]["columns"]}
        documented = {c.lower() for c, spec in node["columns"].items() if spec["description"]}
        assert built_columns == documented, f"{uid}: undocumented {built_columns - documented}"
    assert (target / "index.html").is_file()


# --- incremental: a new day rewrites only the partitions it touches and equals a full refresh ------

TABLES = (
    "silver/orders",
    "silver/order_items",
    "silver/support_tickets",
    "silver/customers",
    "gold/customer_features",
    "gold/churn_training_set",
    "gold/daily_sales",
)
KEYS = {
    "silver/orders": ["order_id"],
    "silver/order_items": ["order_item_id"],
    "silver/support_tickets": ["ticket_id"],
    "silver/customers": ["customer_id"],
    "gold/customer_features": ["customer_id", "snapshot_date"],
    "gold/churn_training_set": ["customer_id", "snapshot_date"],
    "gold/daily_sales": ["order_date", "channel", "region"],
}


def _snapshot(home: Home) -> dict[str, pd.DataFrame]:
    out = {}
    for name in TABLES:
        frame = _frame(home, name)
        for column in frame.columns:  # partition columns come back as dictionary strings
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype(str)
        out[name] = frame.sort_values(KEYS[name]).reset_index(drop=True)
    return out


@pytest.fixture(scope="module")
def incremental(built: tuple[Home, Result]) -> dict[str, Any]:
    home, first = built
    assert first.code == 0, first
    before = {name: partition_files(home.lake / name) for name in ("silver/orders", "gold/customer_features")}
    new_day = HISTORY.end.date()
    for table in HISTORY.tables:
        write_run(home.lake, table, "day-2", new_day, HISTORY.between(table, CUT, HISTORY.end))
    step = home.lakeml("--json", "transform", "--select", "resource_type:model")
    after = {name: partition_files(home.lake / name) for name in before}
    state = _snapshot(home)
    refresh = home.lakeml("--json", "transform", "--select", "resource_type:model", "--full-refresh")
    return {"home": home, "step": step, "refresh": refresh, "before": before, "after": after, "state": state}


def test_one_new_day_rewrites_only_the_partitions_it_touches(incremental: dict[str, Any]) -> None:
    assert incremental["step"].code == 0, incremental["step"]
    new_orders = HISTORY.between("ORDERS", CUT, HISTORY.end)
    assert new_orders, "the fixture's last day must have orders"
    touched = {f"order_month={o['ORDER_TS'].date().replace(day=1).isoformat()}" for o in new_orders}
    before, after = incremental["before"]["silver/orders"], incremental["after"]["silver/orders"]
    rewritten = {p for p in after if after[p] != before.get(p)}
    assert rewritten == touched
    assert len(before) > len(touched)  # most partitions were left alone
    features_before = incremental["before"]["gold/customer_features"]
    features_after = incremental["after"]["gold/customer_features"]
    assert all(features_after[p] == files for p, files in features_before.items())


def test_incremental_result_equals_a_full_refresh(incremental: dict[str, Any]) -> None:
    assert incremental["refresh"].code == 0, incremental["refresh"]
    rebuilt = _snapshot(incremental["home"])
    for name, frame in incremental["state"].items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(frame, rebuilt[name][frame.columns], check_dtype=False, obj=name)
    orders = rebuilt["silver/orders"]
    assert len(orders) == len(HISTORY.tables["ORDERS"])


# --- the daily build: what the day did not change is neither rebuilt nor tested again ---------------

SKIP_LINE = "not run: it passed on this same data"  # test_materialization.sql logs it for a skipped test


def _log_since(log: Path, offset: int) -> str:
    text = log.read_text(errors="replace")
    return text[offset:] if len(text) >= offset else text  # dbt rotated its log: read all of it


@pytest.fixture(scope="module")
def daily(incremental: dict[str, Any]) -> dict[str, Any]:
    """After the refresh: a full `lakeml transform` (every data test passes on these tables), then a day
    whose only change is an order cancelled now (no new snapshot, no completed label window), built
    with `lakeml transform` as the daily flow does, then a full refresh to compare with."""
    home: Home = incremental["home"]
    settle = home.lakeml("--json", "transform")
    before = partition_files(home.lake / "gold/customer_features")
    order = dict(next(o for o in HISTORY.tables["ORDERS"] if o["ORDER_ID"] == EDITED_ORDER + 1))
    order.update(STATUS="cancelled", UPDATED_AT=HISTORY.end)
    # landed a day after day-2's run: the fixture's commit time is midnight of the landing day, and silver
    # reads the runs committed after its newest row's
    write_run(home.lake, "ORDERS", "day-3", HISTORY.end.date() + timedelta(days=1), [order])
    log = home.path / "dbt" / "logs" / "dbt.log"
    offset = len(log.read_text(errors="replace"))
    step = home.lakeml("--json", "transform")
    skipped = [line for line in _log_since(log, offset).splitlines() if SKIP_LINE in line]
    after = partition_files(home.lake / "gold/customer_features")
    state = _snapshot(home)
    refresh = home.lakeml("--json", "transform", "--full-refresh")
    return {
        "home": home,
        "settle": settle,
        "step": step,
        "skipped": skipped,
        "before": before,
        "after": after,
        "state": state,
        "refresh": refresh,
    }


def test_a_day_without_a_new_snapshot_writes_no_gold_partition_and_skips_what_it_did_not_change(
    daily: dict[str, Any],
) -> None:
    assert daily["settle"].code == 0, daily["settle"]
    assert daily["step"].code == 0, daily["step"]
    doc = daily["step"].json
    assert doc["unit_tests_skipped"] is True  # the code passed them in the first build and is unchanged
    assert doc["failed"] == [] and doc["passed"] == doc["tests"]
    assert daily["after"] == daily["before"]  # customer_features: not one file rewritten
    # the gold tests whose every input is unchanged gold (customer_features, churn_training_set) passed
    # without a query; those reading silver (rebuilt today) ran
    assert len(daily["skipped"]) >= 9, daily["skipped"]
    assert not any("relationships_customer_features" in line for line in daily["skipped"])
    assert not any("training_label_windows_complete" in line for line in daily["skipped"])


def test_the_daily_build_equals_a_full_refresh_with_every_test(daily: dict[str, Any]) -> None:
    refresh = daily["refresh"]
    assert refresh.code == 0, refresh
    assert refresh.json["unit_tests_skipped"] is False and refresh.json["passed"] == refresh.json["tests"]
    rebuilt = _snapshot(daily["home"])
    for name, frame in daily["state"].items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(frame, rebuilt[name][frame.columns], check_dtype=False, obj=name)
    cancelled = rebuilt["silver/orders"].set_index("order_id").loc[EDITED_ORDER + 1, "status"]
    assert cancelled == "cancelled"
