"""Turning request bodies into feature matrices, with 4xx errors that say what is wrong and where.

Accepted: `text/csv` — one row per line, values in the model's feature order, no header (a header line
equal to the feature names is allowed and skipped); `application/json` — `{"instances": [[…], …]}`
(ordered values), `{"instances": [{"name": value, …}, …]}` (named), a single object of named values, or
a single list of values. Missing values: empty CSV fields and JSON `null` become NaN (XGBoost's missing
value); the strings "nan"/"NaN" too. Infinity, text, wrong counts, unknown or missing names are rejected.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

MAX_ROWS = 10_000
# The bytes of a CSV body of plain numbers: only these may reach the fast path (see `_plain_csv`).
NUMBER_BYTES = b"0123456789.-+eE,\r\n \t"


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _number(text: str, row: int, column: int, names: Sequence[str]) -> float:
    text = text.strip()
    if text == "" or text.lower() == "nan":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(
            f"row {row + 1}, column {column + 1} ({names[column]}): {text[:40]!r} is not a number"
        ) from None
    if math.isinf(value):
        raise BadRequest(
            f"row {row + 1}, column {column + 1} ({names[column]}): infinite values are not accepted"
        )
    return value


@functools.lru_cache(maxsize=64)
def names_look_numeric(names: tuple[str, ...]) -> bool:
    return any(not name.encode().translate(None, NUMBER_BYTES) for name in names)


def _plain_csv(body: bytes, names: Sequence[str]) -> np.ndarray | None:
    """The matrix of a body of plain numbers, one per feature on each line, parsed in C; None for anything else.

    Lines become JSON arrays and orjson parses them (~35 ns a value, five times numpy's string
    conversion). A JSON number is a decimal `float()` accepts and rounds the same way, and the byte
    filter lets nothing else through (no quotes, letters, brackets), so every body this accepts gets the
    values the row-by-row parser would give; the rest (empty fields, `nan`, `.5`, a header, a bad row)
    goes to that parser, which also words the errors.
    """
    if not body or body.translate(None, NUMBER_BYTES):
        return None
    if names_look_numeric(tuple(names)):  # a header line would pass the byte filter: read it slowly
        return None
    lines = body.strip().replace(b"\r\n", b"\n")
    try:
        values = orjson.loads(b"[[" + lines.replace(b"\n", b"],[") + b"]]")
        matrix = np.array(values, dtype=np.float32)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return None
    if (
        matrix.ndim != 2
        or matrix.shape[1] != len(names)
        or len(matrix) > MAX_ROWS
        or not np.isfinite(matrix).all()
    ):
        return None
    return matrix


def parse_csv(body: bytes, names: Sequence[str]) -> np.ndarray:
    matrix = _plain_csv(body, names)
    if matrix is not None:
        return matrix
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the CSV body is not UTF-8 text") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].replace(" ", "").split(",") == list(names):
        lines = lines[1:]
    if not lines:
        raise BadRequest(f"the CSV body has no rows; send one row per line with {len(names)} values")
    if len(lines) > MAX_ROWS:
        raise BadRequest(f"{len(lines)} rows in one request; the limit is {MAX_ROWS}", status=413)
    width = len(names)
    fields = ",".join(lines).split(",")
    if len(fields) == width * len(lines):
        try:  # fast path: every field a plain number, converted in C
            matrix = np.array(fields, dtype=np.float32).reshape(len(lines), width)
        except ValueError:
            pass
        else:
            if np.isfinite(matrix).all() and all(line.count(",") == width - 1 for line in lines):
                return matrix
    return _parse_csv_slowly(lines, names)


def _parse_csv_slowly(lines: list[str], names: Sequence[str]) -> np.ndarray:
    """Row by row, so the error names the first bad row and column; empty fields become NaN."""
    width = len(names)
    matrix = np.empty((len(lines), width), dtype=np.float32)
    for r, line in enumerate(lines):
        fields = line.split(",")
        if len(fields) != width:
            raise BadRequest(
                f"row {r + 1} has {len(fields)} values; the model expects {width} ({', '.join(names[:5])}, …)"
            )
        matrix[r] = [_number(f, r, c, names) for c, f in enumerate(fields)]
    return matrix


def _json_value(value: Any, row: int, name: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadRequest(f"row {row + 1}, {name}: {json.dumps(value)[:40]} is not a number")
    if isinstance(value, str):
        if value.strip().lower() == "nan":
            return math.nan
        try:
            value = float(value)
        except ValueError:
            raise BadRequest(f"row {row + 1}, {name}: {value[:40]!r} is not a number") from None
    if math.isinf(float(value)) or abs(float(value)) > 3.4e38:
        raise BadRequest(f"row {row + 1}, {name}: {value} is out of range")
    return float(value)


def parse_json(body: bytes, names: Sequence[str]) -> np.ndarray:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:  # json also reads NaN, UTF-16/32 and integers over 64 bits
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if isinstance(document, dict) and "instances" in document:
        instances = document["instances"]
    elif isinstance(document, dict) or (
        isinstance(document, list) and document and not isinstance(document[0], (list, dict))
    ):
        instances = [document]
    else:
        instances = document
    if not isinstance(instances, list) or not instances:
        raise BadRequest(
            'send {"instances": [...]} with at least one row (a list of values or an object of named values)'
        )
    if len(instances) > MAX_ROWS:
        raise BadRequest(f"{len(instances)} rows in one request; the limit is {MAX_ROWS}", status=413)
    index = {name: i for i, name in enumerate(names)}
    matrix = np.empty((len(instances), len(names)), dtype=np.float32)
    for r, instance in enumerate(instances):
        if isinstance(instance, list):
            if len(instance) != len(names):
                raise BadRequest(f"row {r + 1} has {len(instance)} values; the model expects {len(names)}")
            matrix[r] = [_json_value(v, r, names[c]) for c, v in enumerate(instance)]
        elif isinstance(instance, dict):
            unknown = sorted(set(instance) - set(index))
            if unknown:
                raise BadRequest(
                    f"row {r + 1}: unknown feature(s) {', '.join(unknown[:10])}; the model's features are "
                    f"{', '.join(names[:10])}{', …' if len(names) > 10 else ''}"
                )
            missing = [n for n in names if n not in instance]
            if missing:
                raise BadRequest(
                    f"row {r + 1}: missing feature(s) {', '.join(missing[:10])} (send null for a missing value)"
                )
            matrix[r] = [_json_value(instance[n], r, n) for n in names]
        else:
            raise BadRequest(
                f"row {r + 1} is {type(instance).__name__}; send a list of values or an object of named values"
            )
    return matrix
