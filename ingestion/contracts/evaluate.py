"""Evaluating a GX suite on an Arrow batch with vectorised `pyarrow.compute`, one evaluator per expectation type.

Why not GX's own validator on the hot path: importing GX costs ~6 s and its pandas engine validates a
million ORDERS rows orders of magnitude slower than the fetch loop it would sit in (`bench/bench_contracts.py`
measures both). The suite stays the contract — these evaluators read its JSON and implement each
expectation type's pandas semantics (nulls are skipped by every map expectation except not_be_null,
regexes are searched with Python `re` rules, bounds are inclusive unless strict) — and
`tests/ingestion/test_contracts_gx.py` runs GX itself on the same batches and asserts the same rows fail
each expectation.

Two kinds of evaluator:

* schema evaluators (`expect_table_columns_to_match_set`, `expect_column_values_to_be_in_type_list`) judge
  the batch's Arrow schema: a missing or retyped column is drift, never a per-row failure;
* row evaluators return, per expectation, a boolean mask of the rows that fail it plus a one-line detail
  for a failing value.

A suite with an expectation type that has no evaluator is refused when it is compiled, naming the type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from ingestion.contracts.suites import load_suite
from ingestion.contracts.types import FAMILY_OF_CANONICAL, family
from ingestion.schema import RAW_SCHEMA
from lakeml.core.errors import LakemlError

Params = Mapping[str, Any]
Column: TypeAlias = pa.ChunkedArray | pa.Array
Detail: TypeAlias = Callable[[Any], str]


class ContractError(LakemlError):
    """A suite cannot be evaluated (unknown expectation type, missing parameter, bad kwargs)."""


@dataclass(frozen=True)
class Expectation:
    """One expectation of a suite document: GX's `type`, `kwargs` and `meta` (with our `reason` code)."""

    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]

    @property
    def column(self) -> str:
        return str(self.kwargs["column"])

    @property
    def reason(self) -> str:
        return str(self.meta.get("reason") or self.type.removeprefix("expect_column_values_to_"))

    def arg(self, name: str, params: Params) -> Any:
        """A kwarg with GX suite parameters (`{"$PARAMETER": "now"}`) resolved from `params`."""
        value = self.kwargs.get(name)
        if isinstance(value, dict) and "$PARAMETER" in value:
            key = value["$PARAMETER"]
            if key not in params:
                raise ContractError(
                    f"{self.type} on {self.kwargs.get('column')}: suite parameter {key!r} was not supplied; "
                    f"pass it to the evaluation (check_batch supplies 'now')"
                )
            return params[key]
        return value


@dataclass(frozen=True)
class SchemaProblem:
    """Why a batch's schema breaks the suite: a column is missing, unexpected, or of another type family."""

    kind: str  # "missing" | "added" | "retyped"
    column: str
    expected: str = ""
    actual: str = ""


@dataclass(frozen=True)
class RowRule:
    """A row evaluator: `fails` -> mask of failing rows (no nulls); `detail` -> the formatter of a failing
    value's text (arguments resolved once)."""

    fails: Callable[[Expectation, Column, Params], pa.ChunkedArray | pa.Array]
    detail: Callable[[Expectation, Params], Detail]


SchemaRule = Callable[[Expectation, pa.Schema], list[SchemaProblem]]


# --- schema evaluators ----------------------------------------------------------------------------------


def _columns_match_set(exp: Expectation, schema: pa.Schema) -> list[SchemaProblem]:
    expected = list(exp.kwargs["column_set"])
    actual = set(schema.names)
    problems = [SchemaProblem("missing", c) for c in expected if c not in actual]
    if exp.kwargs.get("exact_match", True):
        wanted = set(expected)
        problems += [SchemaProblem("added", c) for c in schema.names if c not in wanted]
    return problems


def _in_type_list(exp: Expectation, schema: pa.Schema) -> list[SchemaProblem]:
    names = exp.kwargs["type_list"]
    if not names or names[0] not in FAMILY_OF_CANONICAL:
        raise ContractError(
            f"expect_column_values_to_be_in_type_list on {exp.column}: the first type name must be one of "
            f"{sorted(FAMILY_OF_CANONICAL)} (the Arrow type family), got {names!r}; regenerate the suite"
        )
    if exp.column not in schema.names:
        return []  # reported once, by the column-set expectation
    actual = schema.field(exp.column).type
    expected_family = FAMILY_OF_CANONICAL[names[0]]
    if family(actual) == expected_family:
        return []
    return [SchemaProblem("retyped", exp.column, str(exp.meta.get("contract_type", names[0])), str(actual))]


SCHEMA_EVALUATORS: dict[str, SchemaRule] = {
    "expect_table_columns_to_match_set": _columns_match_set,
    "expect_column_values_to_be_in_type_list": _in_type_list,
}


# --- row evaluators -------------------------------------------------------------------------------------


def _not_null_fails(exp: Expectation, col: Column, params: Params) -> Any:
    return pc.is_null(col)


def _in_set_fails(exp: Expectation, col: Column, params: Params) -> Any:
    value_set = pa.array(exp.arg("value_set", params), type=col.type)
    return pc.and_(pc.is_valid(col), pc.invert(pc.is_in(col, value_set=value_set)))


def _between_fails(exp: Expectation, col: Column, params: Params) -> Any:
    low, high = exp.arg("min_value", params), exp.arg("max_value", params)
    if low is None and high is None:
        raise ContractError(f"expect_column_values_to_be_between on {exp.column}: no min_value or max_value")
    failing: Any = None
    if low is not None:
        op = pc.less_equal if exp.kwargs.get("strict_min") else pc.less
        failing = op(col, _bound(low, col.type, exp))
    if high is not None:
        op = pc.greater_equal if exp.kwargs.get("strict_max") else pc.greater
        over = op(col, _bound(high, col.type, exp))
        failing = over if failing is None else pc.or_(failing, over)
    return pc.fill_null(failing, False)


def _match_regex_fails(exp: Expectation, col: Column, params: Params) -> Any:
    matches = pc.match_substring_regex(col, _re2_pattern(exp.arg("regex", params), exp))
    return pc.fill_null(pc.invert(matches), False)


def _not_match_regex_fails(exp: Expectation, col: Column, params: Params) -> Any:
    return pc.fill_null(pc.match_substring_regex(col, _re2_pattern(exp.arg("regex", params), exp)), False)


# Detail makers resolve an expectation's arguments once per batch and return the formatter of one value:
# only failing rows are formatted, but a batch can hold many.


def _not_null_detail(exp: Expectation, params: Params) -> Detail:
    text = f"{exp.column} is null"
    return lambda value: text


def _in_set_detail(exp: Expectation, params: Params) -> Detail:
    if exp.meta.get("explain"):  # a verdict column (EMAIL_VALID): say what the value means
        explain = str(exp.meta["explain"])
        return lambda value: f"{exp.column}={_show(value)}: {explain}"
    allowed = ", ".join(str(v) for v in exp.arg("value_set", params))
    return lambda value: f"{exp.column}={_show(value)} not in [{allowed}]"


def _between_detail(exp: Expectation, params: Params) -> Detail:
    low, high = exp.arg("min_value", params), exp.arg("max_value", params)
    strict_min, strict_max = bool(exp.kwargs.get("strict_min")), bool(exp.kwargs.get("strict_max"))
    below = f"{'<=' if strict_min else '<'} {_show(low)}"
    if isinstance(exp.kwargs.get("max_value"), dict):  # a suite parameter: name it ("after now (…)")
        above = f"after {exp.kwargs['max_value']['$PARAMETER']} ({_show(high)})"
    else:
        above = f"{'>=' if strict_max else '>'} {_show(high)}"

    def detail(value: Any) -> str:
        too_low = low is not None and (value <= low if strict_min else value < low)
        return f"{exp.column}={_show(value)} {below if too_low else above}"

    return detail


def _match_regex_detail(exp: Expectation, params: Params) -> Detail:
    return lambda value: f"{exp.column}={_show(value)}"


ROW_EVALUATORS: dict[str, RowRule] = {
    "expect_column_values_to_not_be_null": RowRule(_not_null_fails, _not_null_detail),
    "expect_column_values_to_be_in_set": RowRule(_in_set_fails, _in_set_detail),
    "expect_column_values_to_be_between": RowRule(_between_fails, _between_detail),
    "expect_column_values_to_match_regex": RowRule(_match_regex_fails, _match_regex_detail),
    "expect_column_values_to_not_match_regex": RowRule(_not_match_regex_fails, _match_regex_detail),
}


# --- helpers --------------------------------------------------------------------------------------------


def _bound(value: Any, type_: pa.DataType, exp: Expectation) -> pa.Scalar:
    """A bound as a scalar of the column's type, so the comparison stays a typed kernel.

    Timestamps: a naive bound against a naive column as is; an aware `now` against a naive (NTZ) column is
    converted to UTC first (the source stores UTC wall-clock time); a naive bound against an aware column is
    taken as UTC.
    """
    if pat.is_timestamp(type_):
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if not isinstance(value, datetime):
            raise ContractError(f"{exp.type} on {exp.column}: bound {value!r} is not a timestamp")
        if type_.tz is None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        elif type_.tz is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return pa.scalar(value, type=pa.timestamp(type_.unit, tz=type_.tz))
    if pat.is_decimal(type_):
        try:
            return pa.scalar(Decimal(str(value)), type=type_)
        except (pa.ArrowInvalid, ArithmeticError):
            return pa.scalar(float(value))  # e.g. a fractional bound on a scale-0 decimal: compare as float
    if pat.is_integer(type_) and isinstance(value, float) and not value.is_integer():
        return pa.scalar(value)
    try:
        return pa.scalar(value, type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise ContractError(
            f"{exp.type} on {exp.column}: bound {value!r} does not fit the column type {type_}"
        ) from exc


def _re2_pattern(pattern: str, exp: Expectation) -> str:
    """Python `re` semantics for RE2: GX searches with `str.contains`, where a final `$` also matches before a
    trailing newline; RE2's `$` does not, so it becomes `\\n?$`. Other syntax must mean the same in both."""
    if pattern.endswith("$") and not pattern.endswith("\\$") and "(?m" not in pattern:
        pattern = pattern[:-1] + "\\n?$"
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ContractError(f"{exp.type} on {exp.column}: invalid regex {pattern!r}: {exc}") from exc
    return pattern


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# --- compiled suites ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledSuite:
    """A suite split into schema checks and row checks, every expectation type known to have an evaluator."""

    name: str
    schema_checks: tuple[tuple[Expectation, SchemaRule], ...]
    row_checks: tuple[tuple[Expectation, RowRule], ...]

    def schema_problems(self, schema: pa.Schema) -> list[SchemaProblem]:
        return [p for exp, rule in self.schema_checks for p in rule(exp, schema)]

    def masks(self, batch: pa.Table, params: Params) -> list[tuple[Expectation, RowRule, Any]]:
        """Per row expectation, the mask of rows failing it (true = fails; never null)."""
        return [
            (exp, rule, rule.fails(exp, batch.column(exp.column), params)) for exp, rule in self.row_checks
        ]


def compile_suite(suite: dict[str, Any]) -> CompiledSuite:
    """Check every expectation has an evaluator and split them; raise naming the first unknown type."""
    name = str(suite.get("name", "?"))
    schema_checks: list[tuple[Expectation, SchemaRule]] = []
    row_checks: list[tuple[Expectation, RowRule]] = []
    for raw in suite.get("expectations", []):
        exp = Expectation(
            type=raw["type"], kwargs=dict(raw.get("kwargs", {})), meta=dict(raw.get("meta") or {})
        )
        if exp.type in SCHEMA_EVALUATORS:
            schema_checks.append((exp, SCHEMA_EVALUATORS[exp.type]))
        elif exp.type in ROW_EVALUATORS:
            if exp.kwargs.get("mostly", 1) != 1 or exp.kwargs.get("row_condition"):
                raise ContractError(
                    f"suite {name}: {exp.type} on {exp.kwargs.get('column')} uses mostly/row_condition, "
                    "which has no per-row meaning; remove it from the suite"
                )
            row_checks.append((exp, ROW_EVALUATORS[exp.type]))
        else:
            known = sorted([*SCHEMA_EVALUATORS, *ROW_EVALUATORS])
            raise ContractError(
                f"suite {name}: expectation type {exp.type!r} has no Arrow evaluator in "
                f"ingestion/contracts/evaluate.py (known: {', '.join(known)}); add an evaluator "
                "or remove the expectation"
            )
    return CompiledSuite(name, tuple(schema_checks), tuple(row_checks))


@lru_cache(maxsize=64)
def compiled_suite(table_name: str, schema: str = RAW_SCHEMA) -> CompiledSuite:
    """The committed suite of a table as read from `schema` (RAW or EXTRACT), compiled once per process."""
    return compile_suite(load_suite(table_name, schema))
