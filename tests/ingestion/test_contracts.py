"""Per-row contract checks (`check_batch`), drift, casting back to the contract, and the committed suites."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.contracts import (
    REASONS,
    ContractDriftError,
    ContractError,
    cast_to_contract,
    check_batch,
    contract_schema,
    schema_drift,
)
from ingestion.contracts.check import split
from ingestion.contracts.evaluate import compile_suite
from ingestion.contracts.generate import out_of_date
from ingestion.contracts.samples import plant_bad_rows, valid_batch
from ingestion.contracts.suites import build_suite, load_suite
from ingestion.schema import CUSTOMERS, OBJECTS, ORDERS, PRODUCTS, TABLES, VIEWS, Column, Table

NOW = datetime(2026, 11, 27, 6, 0, 0)
# every contract: the raw tables and the extraction views ingestion reads by default
CONTRACTS = {f"{t.schema}.{name}": t for tables in OBJECTS.values() for name, t in tables.items()}
TABLE_IDS = sorted(CONTRACTS)


def orders(**overrides: list) -> pa.Table:
    """Three valid ORDERS rows, with the given columns replaced."""
    base = valid_batch(ORDERS, 3, now=NOW, seed=7)
    for name, values in overrides.items():
        index = base.column_names.index(name)
        base = base.set_column(
            index, base.schema.field(index), pa.array(values, base.schema.field(index).type)
        )
    return base


def reasons(result) -> list[list[str]]:
    return result.quarantined.column(REASONS).to_pylist()


# --- rows ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TABLE_IDS)
def test_valid_rows_pass_untouched(name: str) -> None:
    batch = valid_batch(CONTRACTS[name], 500, now=NOW)
    result = check_batch(CONTRACTS[name], batch, now=NOW)
    assert result.good.equals(batch)
    assert result.quarantined.num_rows == 0
    assert result.quarantined.schema.names == [*batch.column_names, REASONS]


@pytest.mark.parametrize("name", TABLE_IDS)
def test_every_planted_bad_row_is_quarantined_with_its_reason(name: str) -> None:
    table = CONTRACTS[name]
    batch, planted = plant_bad_rows(table, valid_batch(table, 300, now=NOW), now=NOW)
    batch = batch.append_column("ROW", pa.array(range(batch.num_rows)))
    result = check_batch(table, batch, now=NOW)

    expected: dict[int, set[tuple[str, str]]] = {}
    for p in planted:
        expected.setdefault(p.row, set()).add((p.reason, p.column))
    got = {
        row: {(r.split(": ", 1)[0], re.split(r"[= ]", r.split(": ", 1)[1])[0]) for r in rs}
        for row, rs in zip(result.quarantined.column("ROW").to_pylist(), reasons(result), strict=True)
    }
    assert got == expected
    assert result.good.num_rows + result.quarantined.num_rows == batch.num_rows


def test_reasons_name_code_column_and_value() -> None:
    batch = orders(
        ORDER_ID=[None, 2, 3],
        NET_AMOUNT=[Decimal("1.00"), Decimal("-12.50"), Decimal("3.00")],
        STATUS=["placed", "placed", "shipped_maybe"],
    )
    result = check_batch(ORDERS, batch, now=NOW)
    assert reasons(result) == [
        ["null_primary_key: ORDER_ID is null"],
        ["negative_amount: NET_AMOUNT=-12.50 < 0"],
        ["unknown_enum: STATUS='shipped_maybe' not in [placed, shipped, delivered, cancelled, returned]"],
    ]


def test_future_timestamp_names_value_and_now() -> None:
    batch = orders(ORDER_TS=[NOW, NOW + timedelta(seconds=1), datetime(2031, 1, 2, 3, 4, 5)])
    result = check_batch(ORDERS, batch, now=NOW)
    assert reasons(result) == [
        ["future_timestamp: ORDER_TS=2026-11-27T06:00:01 after now (2026-11-27T06:00:00)"],
        ["future_timestamp: ORDER_TS=2031-01-02T03:04:05 after now (2026-11-27T06:00:00)"],
    ]
    assert result.good.column("ORDER_TS").to_pylist() == [NOW]  # the bound itself is not the future


def test_updated_at_in_the_future_is_caught_too() -> None:
    result = check_batch(ORDERS, orders(UPDATED_AT=[NOW, NOW + timedelta(days=1), NOW]), now=NOW)
    assert [r[0].split(":")[0] for r in reasons(result)] == ["future_timestamp"]
    assert "UPDATED_AT=" in reasons(result)[0][0]


def test_aware_now_is_compared_in_utc() -> None:
    tz_plus_two = datetime(2026, 11, 27, 8, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    batch = orders(UPDATED_AT=[NOW, NOW + timedelta(minutes=1), NOW])
    result = check_batch(ORDERS, batch, now=tz_plus_two)  # 08:00+02:00 == 06:00 UTC
    assert result.quarantined.num_rows == 1


def test_malformed_email_is_caught_and_good_emails_pass() -> None:
    emails = [
        "foo@",
        "ann.lee+shop@mail.example.co",
        "no-at-sign.com",
        "a@b.c",
        "x y@z.com",
        None,
        "bob@example.com\n",
    ]
    batch = valid_batch(CUSTOMERS, len(emails), now=NOW)
    batch = batch.set_column(1, "EMAIL", pa.array(emails, pa.string()))
    result = check_batch(CUSTOMERS, batch, now=NOW)
    assert reasons(result) == [
        ["malformed_email: EMAIL='foo@'"],
        ["malformed_email: EMAIL='no-at-sign.com'"],
        ["malformed_email: EMAIL='a@b.c'"],
        ["malformed_email: EMAIL='x y@z.com'"],  # fails both email checks, said once
        ["malformed_email: EMAIL='bob@example.com\\n'"],
    ]
    assert result.good.column("EMAIL").to_pylist() == ["ann.lee+shop@mail.example.co", None]


def test_the_view_quarantines_a_false_email_verdict_and_a_malformed_digest_without_any_address() -> None:
    view = VIEWS["CUSTOMERS"]
    digest = "ab" * 32
    verdicts = [True, False, None, True, True, True]
    digests = [digest, digest, None, digest.upper(), digest[:63], digest + "\n"]
    batch = valid_batch(view, len(verdicts), now=NOW)
    batch = batch.set_column(1, "EMAIL_SHA256", pa.array(digests, pa.string()))
    batch = batch.set_column(2, "EMAIL_VALID", pa.array(verdicts, pa.bool_()))
    result = check_batch(view, batch, now=NOW)
    assert reasons(result) == [
        [
            "malformed_email: EMAIL_VALID=False: the address fails the e-mail rule; judged in Snowflake, "
            "not extracted"
        ],
        [f"malformed_email_sha256: EMAIL_SHA256='{digest.upper()}'"],
        [f"malformed_email_sha256: EMAIL_SHA256='{digest[:63]}'"],
        [f"malformed_email_sha256: EMAIL_SHA256='{digest}\\n'"],  # the newline `$` lets through
    ]
    assert result.good.column("EMAIL_SHA256").to_pylist() == [digest, None]  # no e-mail: nothing to judge
    assert not {"EMAIL", "FIRST_NAME", "LAST_NAME"} & set(result.quarantined.column_names)


def test_below_minimum_other_than_zero() -> None:
    batch = valid_batch(CUSTOMERS, 2, now=NOW)
    batch = batch.set_column(4, "BIRTH_YEAR", pa.array([1899, 1900], pa.int64()))
    assert reasons(check_batch(CUSTOMERS, batch, now=NOW)) == [["below_minimum: BIRTH_YEAR=1899 < 1900"]]


def test_null_in_required_column_that_is_not_the_key() -> None:
    result = check_batch(ORDERS, orders(CUSTOMER_ID=[1, None, 3]), now=NOW)
    assert reasons(result) == [["null_required: CUSTOMER_ID is null"]]


def test_nulls_in_nullable_columns_pass_every_check() -> None:
    batch = orders(STATUS=[None] * 3, NET_AMOUNT=[None] * 3, CHANNEL=[None] * 3, ITEM_COUNT=[None] * 3)
    assert check_batch(ORDERS, batch, now=NOW).quarantined.num_rows == 0


def test_one_row_gets_every_reason_it_has() -> None:
    batch = orders(
        ORDER_ID=[1, None, 3],
        STATUS=["placed", "lost", "placed"],
        NET_AMOUNT=[Decimal("1"), Decimal("-1"), Decimal("1")],
        ORDER_TS=[NOW, NOW + timedelta(days=3), NOW],
    )
    result = check_batch(ORDERS, batch, now=NOW)
    assert result.quarantined.num_rows == 1
    assert [r.split(":")[0] for r in reasons(result)[0]] == [
        "null_primary_key",
        "future_timestamp",
        "unknown_enum",
        "negative_amount",
    ]
    assert result.reason_counts == {
        "future_timestamp": 1,
        "negative_amount": 1,
        "null_primary_key": 1,
        "unknown_enum": 1,
    }


def test_good_and_quarantined_partition_the_batch_in_order() -> None:
    batch, _ = plant_bad_rows(ORDERS, valid_batch(ORDERS, 2_000, now=NOW, seed=3), now=NOW)
    batch = pa.concat_tables([batch, batch])  # several chunks
    batch = batch.append_column("ROW", pa.array(range(batch.num_rows)))  # unknown column: passes through
    result = check_batch(ORDERS, batch, now=NOW)

    good_rows = result.good.column("ROW").to_pylist()
    bad_rows = result.quarantined.column("ROW").to_pylist()
    assert sorted(good_rows + bad_rows) == list(range(batch.num_rows))
    assert good_rows == sorted(good_rows) and bad_rows == sorted(bad_rows)
    assert result.good.equals(batch.take(good_rows))  # untouched, order kept
    assert result.quarantined.drop_columns([REASONS]).equals(batch.take(bad_rows))


def test_record_batch_is_accepted_and_empty_batch_is_fine() -> None:
    batch = valid_batch(ORDERS, 5, now=NOW)
    assert check_batch(ORDERS, batch.to_batches()[0], now=NOW).good.num_rows == 5
    empty = check_batch(ORDERS, batch.slice(0, 0), now=NOW)
    assert (empty.good.num_rows, empty.quarantined.num_rows) == (0, 0)


# --- schema of the batch ----------------------------------------------------------------------------------


def test_added_column_passes_through_unchecked() -> None:
    batch = orders().append_column("PREFERRED_LANGUAGE", pa.array(["en", None, "xx"]))
    result = check_batch(ORDERS, batch, now=NOW)
    assert result.good.equals(batch)


def test_missing_contract_column_is_drift_not_row_failures() -> None:
    with pytest.raises(ContractDriftError, match="column STATUS is missing") as info:
        check_batch(ORDERS, orders().drop_columns(["STATUS"]), now=NOW)
    assert info.value.drift.missing == ["STATUS"]
    assert "on_drift" in str(info.value)


def test_retyped_contract_column_is_drift() -> None:
    batch = orders()
    batch = batch.set_column(8, "NET_AMOUNT", pa.array(["1.00", "x", None]))
    with pytest.raises(
        ContractDriftError, match=r"column NET_AMOUNT changed type decimal128\(12, 2\) -> string"
    ):
        check_batch(ORDERS, batch, now=NOW)


def test_same_family_types_are_checked_as_the_contract() -> None:
    batch = orders(NET_AMOUNT=[Decimal("1.00"), Decimal("-0.01"), None])
    batch = batch.set_column(0, "ORDER_ID", batch.column("ORDER_ID").cast(pa.decimal128(38, 0)))
    batch = batch.set_column(8, "NET_AMOUNT", batch.column("NET_AMOUNT").cast(pa.decimal128(18, 4)))
    batch = batch.set_column(2, "ORDER_TS", batch.column("ORDER_TS").cast(pa.timestamp("ns")))
    result = check_batch(ORDERS, batch, now=NOW)
    assert reasons(result) == [["negative_amount: NET_AMOUNT=-0.0100 < 0"]]


# --- drift -----------------------------------------------------------------------------------------------


def test_drift_none_when_schemas_match_or_nothing_to_compare() -> None:
    schema = contract_schema(ORDERS)
    assert schema_drift(schema, schema).empty
    assert schema_drift(None, schema).empty
    assert schema_drift(schema, schema).describe() == "no schema drift"


def test_drift_added_missing_retyped_named_in_one_sentence() -> None:
    before = contract_schema(PRODUCTS)
    after = pa.schema(
        [
            f if f.name != "LIST_PRICE" else pa.field("LIST_PRICE", pa.string())
            for f in before
            if f.name != "SKU"
        ]
        + [pa.field("PREFERRED_LANGUAGE", pa.string())]
    )
    drift = schema_drift(before, after)
    assert drift.added == ["PREFERRED_LANGUAGE"]
    assert drift.missing == ["SKU"]
    assert drift.retyped == [("LIST_PRICE", "decimal128(10, 2)", "string")]
    assert not drift.empty
    assert drift.describe() == (
        "column LIST_PRICE changed type decimal128(10, 2) -> string; column PREFERRED_LANGUAGE was added; "
        "column SKU is missing"
    )


@pytest.mark.parametrize(
    ("old", "new", "drifted"),
    [
        (pa.int64(), pa.decimal128(38, 0), False),  # the connector's two spellings of NUMBER(38,0)
        (pa.int64(), pa.int32(), False),
        (pa.decimal128(10, 2), pa.decimal128(12, 2), False),  # widened money column
        (pa.decimal128(10, 2), pa.decimal128(12, 4), False),
        (pa.timestamp("us"), pa.timestamp("ns"), False),
        (pa.string(), pa.large_string(), False),
        (pa.int64(), pa.decimal128(10, 2), True),  # integer became fractional
        (pa.decimal128(10, 2), pa.float64(), True),  # exactness lost
        (pa.decimal128(10, 2), pa.string(), True),
        (pa.timestamp("us"), pa.timestamp("us", tz="UTC"), True),
        (pa.bool_(), pa.int64(), True),
    ],
)
def test_drift_compares_type_families(old: pa.DataType, new: pa.DataType, drifted: bool) -> None:
    drift = schema_drift(pa.schema([("C", old)]), pa.schema([("C", new)]))
    assert drift.retyped == ([("C", str(old), str(new))] if drifted else [])


# --- casting back to the contract ------------------------------------------------------------------------


def test_cast_to_contract_lands_castable_values_and_quarantines_the_rest() -> None:
    batch = valid_batch(PRODUCTS, 4, now=NOW)
    batch = batch.set_column(4, "LIST_PRICE", pa.array(["12.50", "abc", None, " 3 "]))
    cast, failed = cast_to_contract(PRODUCTS, batch)
    assert cast.schema.field("LIST_PRICE").type == pa.decimal128(10, 2)
    assert cast.column_names == batch.column_names
    assert cast.column("LIST_PRICE").to_pylist() == [Decimal("12.50"), None, Decimal("3.00")]
    assert cast.column("PRODUCT_ID").to_pylist() == [1, 3, 4]
    assert failed.column("PRODUCT_ID").to_pylist() == [2]
    assert failed.column(REASONS).to_pylist() == [
        ["type_mismatch: LIST_PRICE='abc' is not decimal (decimal128(10, 2))"]
    ]
    assert failed.column("LIST_PRICE").to_pylist() == ["abc"]  # the original value is kept
    assert cast.num_rows + failed.num_rows == batch.num_rows
    assert check_batch(PRODUCTS, cast, now=NOW).quarantined.num_rows == 0  # now checkable


def test_cast_to_contract_quarantines_values_that_lose_precision() -> None:
    batch = orders(NET_AMOUNT=[Decimal("1.00")] * 3)
    batch = batch.set_column(8, "NET_AMOUNT", pa.array([1.5, 2.125, 1e20]))
    cast, failed = cast_to_contract(ORDERS, batch)
    assert cast.column("NET_AMOUNT").to_pylist() == [Decimal("1.50")]
    assert [r[0].split(":")[0] for r in failed.column(REASONS).to_pylist()] == ["type_mismatch"] * 2


def test_cast_to_contract_refuses_strings_with_more_decimals_than_the_contract() -> None:
    batch = orders()
    batch = batch.set_column(8, "NET_AMOUNT", pa.array(["2.125", "2.10", "1e3"]))
    cast, failed = cast_to_contract(ORDERS, batch)
    assert cast.column("NET_AMOUNT").to_pylist() == [Decimal("2.10"), Decimal("1000.00")]
    assert failed.column(REASONS).to_pylist() == [
        ["type_mismatch: NET_AMOUNT='2.125' is not decimal (decimal128(12, 2))"]
    ]


def test_cast_to_contract_leaves_a_batch_without_retyped_columns_alone() -> None:
    batch = orders()
    cast, failed = cast_to_contract(ORDERS, batch)
    assert cast.equals(batch)
    assert failed.num_rows == 0
    assert failed.schema.names == [*batch.column_names, REASONS]


# --- suites ----------------------------------------------------------------------------------------------


def test_committed_suites_match_schema_py() -> None:
    stale = out_of_date()
    assert not stale, f"out of date: {stale}; run `python -m ingestion.contracts.generate` and commit"


def test_suite_is_derived_from_the_schema_for_a_new_table() -> None:
    table = Table(
        name="LOYALTY_EVENTS",
        primary_key="EVENT_ID",
        columns=(
            Column("EVENT_ID", "NUMBER(38,0)", nullable=False),
            Column("EMAIL", "VARCHAR"),
            Column("POINTS", "NUMBER(8,1)", minimum=-0.5),
            Column("KIND", "VARCHAR", enum=("earn", "burn")),
            Column("SEEN_AT", "TIMESTAMP_TZ"),
            Column("UPDATED_AT", "TIMESTAMP_NTZ", nullable=False),
        ),
    )
    suite = compile_suite(build_suite(table))
    codes = [(exp.column, exp.reason) for exp, _ in suite.row_checks]
    assert codes == [
        ("EVENT_ID", "null_primary_key"),
        ("EMAIL", "malformed_email"),
        ("EMAIL", "malformed_email"),
        ("POINTS", "below_minimum"),
        ("KIND", "unknown_enum"),
        ("SEEN_AT", "future_timestamp"),
        ("UPDATED_AT", "null_required"),
        ("UPDATED_AT", "future_timestamp"),
    ]
    batch = valid_batch(table, 2, now=NOW).drop_columns(["EMAIL", "POINTS"])
    batch = batch.add_column(1, "EMAIL", pa.array(["a@b.co", "nope"]))
    batch = batch.add_column(2, "POINTS", pa.array([Decimal("-0.5"), Decimal("-0.6")], pa.decimal128(8, 1)))
    assert batch.schema.field("SEEN_AT").type == pa.timestamp("us", tz="UTC")
    result = split(suite, batch, {"now": NOW})
    assert result.quarantined.column(REASONS).to_pylist() == [
        ["malformed_email: EMAIL='nope'", "below_minimum: POINTS=-0.6 < -0.5"]
    ]


def test_unknown_expectation_type_is_refused_by_name() -> None:
    suite = load_suite("ORDERS")
    odd = {
        **suite,
        "expectations": [
            *suite["expectations"],
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "ORDER_ID"}},
        ],
    }
    with pytest.raises(ContractError, match="'expect_column_values_to_be_unique' has no Arrow evaluator"):
        compile_suite(odd)


def test_missing_suite_parameter_is_a_clear_error() -> None:
    suite = compile_suite(load_suite("ORDERS"))
    with pytest.raises(ContractError, match="suite parameter 'now' was not supplied"):
        split(suite, orders(), {})


def test_table_without_a_committed_suite_says_how_to_make_one() -> None:
    ghost = replace(ORDERS, name="GHOST")
    with pytest.raises(Exception, match=r"no contract suite for RAW.GHOST.*ingestion.contracts.generate"):
        check_batch(ghost, orders(), now=NOW)


def test_importing_contracts_does_not_import_great_expectations() -> None:
    code = "import sys, ingestion.contracts; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_generate_writes_checks_and_prunes_suites(tmp_path, monkeypatch, capsys) -> None:
    from ingestion.contracts import generate, suites

    monkeypatch.setattr(suites, "SUITES_DIR", tmp_path)
    monkeypatch.setattr(generate, "SUITES_DIR", tmp_path)
    (tmp_path / "dropped_table.json").write_text("{}")
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 0
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.json"))
    assert written == sorted(f"{s.lower()}/{n.lower()}.json" for s in ("raw", "extract") for n in TABLES)
    assert generate.main(["--check"]) == 0
    (tmp_path / "extract" / "orders.json").write_text("{}")
    capsys.readouterr()
    assert generate.main(["--check"]) == 1
    assert "extract/orders.json" in capsys.readouterr().err
