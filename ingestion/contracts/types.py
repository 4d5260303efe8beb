"""Arrow types of the contract: what a Snowflake column type lands as, and when two types are "the same".

Two questions share one rule here so that `schema_drift`, the suites and `cast_to_contract` never disagree:

* `arrow_type(sf_type)` — the Arrow type bronze stores for a Snowflake DDL type. It mirrors the extractor's
  normalisation (`ingestion.extract.arrow_type`): NUMBER(p,0) -> int64, NUMBER(p,s>0) -> decimal128(p,s),
  timestamps in microseconds, VARCHAR -> string.
* `family(arrow_type)` — the *type family* two types are compared by. The connector may hand back the same
  Snowflake column as int8..int64 or decimal(38,0), and a NUMBER(10,2) widened to NUMBER(12,2) is still
  money, so drift is a change of family, not of width:

  ========== ==========================================================================
  family     Arrow types
  ========== ==========================================================================
  integer    int8..int64, uint8..uint64, decimal128/256 with scale 0 (NUMBER(p,0))
  decimal    decimal128/256 with scale > 0, any precision/scale (NUMBER(p,s))
  float      float16/32/64 (FLOAT/DOUBLE; *not* interchangeable with decimal: exactness)
  string     string, large_string, string_view
  timestamp  timestamp of any unit without a time zone (TIMESTAMP_NTZ)
  timestamp_tz timestamp of any unit with a time zone (TIMESTAMP_TZ/LTZ)
  boolean, date, time, binary   as named
  ========== ==========================================================================

  Anything else is its own family (its type string), so an unexpected type is always drift.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.types as pat

from lakeml.core.errors import ConfigError

_NUMBER = re.compile(r"^(?:NUMBER|NUMERIC|DECIMAL)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$")
_SIMPLE: dict[str, pa.DataType] = {
    "INT": pa.int64(),
    "INTEGER": pa.int64(),
    "BIGINT": pa.int64(),
    "SMALLINT": pa.int64(),
    "TINYINT": pa.int64(),
    "BYTEINT": pa.int64(),
    "FLOAT": pa.float64(),
    "FLOAT4": pa.float64(),
    "FLOAT8": pa.float64(),
    "DOUBLE": pa.float64(),
    "DOUBLE PRECISION": pa.float64(),
    "REAL": pa.float64(),
    "VARCHAR": pa.string(),
    "STRING": pa.string(),
    "TEXT": pa.string(),
    "CHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIME": pa.time64("us"),
    "TIMESTAMP": pa.timestamp("us"),
    "DATETIME": pa.timestamp("us"),
    "TIMESTAMP_NTZ": pa.timestamp("us"),
    "TIMESTAMP_LTZ": pa.timestamp("us", tz="UTC"),
    "TIMESTAMP_TZ": pa.timestamp("us", tz="UTC"),
    "BINARY": pa.binary(),
}


def arrow_type(sf_type: str) -> pa.DataType:
    """The Arrow type a Snowflake DDL type lands as in bronze (see the module docstring)."""
    text = " ".join(sf_type.upper().split())
    number = _NUMBER.match(text)
    if number:
        precision = int(number.group(1) or 38)
        scale = int(number.group(2) or 0)
        return pa.int64() if scale == 0 else pa.decimal128(precision, scale)
    base = re.sub(r"\s*\(.*\)$", "", text)  # VARCHAR(200), TIMESTAMP_NTZ(9), CHAR(1) ...
    if base in _SIMPLE:
        return _SIMPLE[base]
    raise ConfigError(
        f"Snowflake type {sf_type!r} has no Arrow mapping in ingestion/contracts/types.py; "
        "add it to _SIMPLE (or use a supported type in ingestion/schema.py)"
    )


def family(t: pa.DataType) -> str:
    """The type family `t` is compared by (see the module docstring's table)."""
    if pat.is_integer(t):
        return "integer"
    if pat.is_decimal(t):
        return "integer" if t.scale == 0 else "decimal"
    if pat.is_floating(t):
        return "float"
    if pat.is_string(t) or pat.is_large_string(t) or pat.is_string_view(t):
        return "string"
    if pat.is_timestamp(t):
        return "timestamp_tz" if t.tz else "timestamp"
    if pat.is_boolean(t):
        return "boolean"
    if pat.is_date(t):
        return "date"
    if pat.is_time(t):
        return "time"
    if pat.is_binary(t) or pat.is_large_binary(t) or pat.is_fixed_size_binary(t):
        return "binary"
    return str(t)


# The names written into `expect_column_values_to_be_in_type_list`. The first name is the family's
# canonical Arrow name, which is what the Arrow evaluator reads; the rest are the pandas/numpy dtypes the
# same column has in the frame GX validates (`gx_frame`), so GX's own pandas check passes on it too.
TYPE_LISTS: dict[str, list[str]] = {
    "integer": ["int64", "Int64Dtype", "int8", "int16", "int32", "uint8", "uint16", "uint32", "uint64"],
    "decimal": ["decimal128", "float64"],  # GX's pandas engine has no decimal dtype: gx_frame uses float64
    "float": ["float64", "Float64Dtype", "float32"],
    "string": ["string", "str"],
    "timestamp": ["timestamp", "datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]"],
    "timestamp_tz": ["timestamp_tz", "DatetimeTZDtype"],
    "boolean": ["bool", "BooleanDtype"],
    "date": ["date32", "date"],
    "time": ["time64", "time"],
    "binary": ["binary", "bytes"],
}
FAMILY_OF_CANONICAL: dict[str, str] = {names[0]: fam for fam, names in TYPE_LISTS.items()}


def type_list(t: pa.DataType) -> list[str]:
    """Names for the suite's type expectation of a column whose contract type is `t`."""
    return list(TYPE_LISTS[family(t)])
