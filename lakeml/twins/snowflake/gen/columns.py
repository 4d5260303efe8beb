"""Arrow columns from numpy arrays, in the types the source's tables take (timestamps, money, days)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from lakeml.twins.snowflake.gen.sim import DAY_S


def ts_array(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds -> TIMESTAMP_NTZ (microseconds), with nulls where `valid` is False."""
    values = np.asarray(seconds, dtype=np.int64) * 1_000_000
    mask = None if valid is None else ~valid
    return pa.array(values, type=pa.timestamp("us"), mask=mask)


def money(cents: np.ndarray) -> pa.Array:
    """Cents -> a float column with exactly two decimals; COPY INTO casts it to NUMBER(p,2)."""
    return pa.array(np.asarray(cents, dtype=np.int64) / 100.0, type=pa.float64())


def epoch_seconds(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_S
