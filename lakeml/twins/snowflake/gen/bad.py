"""Bad rows on purpose (`--bad-rate`), each with exactly one defect, and the register that names them.

Classes (`BAD_CLASSES`) and the tables/columns they hit:
- null_pk: an extra copy of a row with the primary key NULL (any table).
- duplicate_pk: an extra, exact copy of a row: same key, same UPDATED_AT, same content (a double insert).
- negative_amount: a money column made negative (ORDERS.NET_AMOUNT, ORDER_ITEMS.UNIT_PRICE,
  PRODUCTS.LIST_PRICE).
- unknown_enum: an enum column set to a plausible value the contract does not list (e.g. CHANNEL 'kiosk').
- future_timestamp: the business timestamp (ORDER_TS, SIGNUP_AT, CREATED_AT) moved 10-30 years past the
  simulated clock -- later than the row's own UPDATED_AT. UPDATED_AT (the ingestion cursor) is never
  touched, so bad rows are extracted in the same window as their neighbours.
- malformed_email: CUSTOMERS.EMAIL without a valid local@domain.tld shape.

Defects replace a value in a row that is otherwise good; null_pk and duplicate_pk add rows. No row gets
two defects, and no row is both the source of a copy and defective. Every bad row is registered in
RETAIL.LAKEML_META.INJECTED_BAD_ROWS with its table, class, key (NULL for null_pk), UPDATED_AT, the
column that carries the defect and the row as JSON.
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BAD_CLASSES = (
    "null_pk",
    "duplicate_pk",
    "negative_amount",
    "unknown_enum",
    "future_timestamp",
    "malformed_email",
)

# table -> class -> columns the defect may land on
TARGETS: dict[str, dict[str, tuple[str, ...]]] = {
    "CUSTOMERS": {
        "null_pk": ("CUSTOMER_ID",),
        "duplicate_pk": ("CUSTOMER_ID",),
        "unknown_enum": ("SIGNUP_CHANNEL", "REGION", "LOYALTY_TIER"),
        "future_timestamp": ("SIGNUP_AT",),
        "malformed_email": ("EMAIL",),
    },
    "PRODUCTS": {
        "null_pk": ("PRODUCT_ID",),
        "duplicate_pk": ("PRODUCT_ID",),
        "negative_amount": ("LIST_PRICE",),
        "unknown_enum": ("CATEGORY",),
    },
    "ORDERS": {
        "null_pk": ("ORDER_ID",),
        "duplicate_pk": ("ORDER_ID",),
        "negative_amount": ("NET_AMOUNT", "GROSS_AMOUNT"),
        "unknown_enum": ("CHANNEL", "STATUS"),
        "future_timestamp": ("ORDER_TS",),
    },
    "ORDER_ITEMS": {
        "null_pk": ("ORDER_ITEM_ID",),
        "duplicate_pk": ("ORDER_ITEM_ID",),
        "negative_amount": ("UNIT_PRICE",),
        "future_timestamp": ("ORDER_TS",),
    },
    "SUPPORT_TICKETS": {
        "null_pk": ("TICKET_ID",),
        "duplicate_pk": ("TICKET_ID",),
        "unknown_enum": ("SEVERITY", "CATEGORY", "STATUS"),
        "future_timestamp": ("CREATED_AT",),
    },
}

UNKNOWN_ENUM_VALUES = {
    "SIGNUP_CHANNEL": "kiosk",
    "CHANNEL": "kiosk",
    "REGION": "overseas",
    "LOYALTY_TIER": "diamond",
    "CATEGORY": "garden",
    "STATUS": "on_hold",
    "SEVERITY": "urgent",
}
_MALFORMED = ("{local} at {domain}", "{local}@", "{local}@@{domain}", "{local}.{domain}", "{local} @{domain}")

REGISTER_SCHEMA = pa.schema(
    [
        ("TABLE_NAME", pa.string()),
        ("BAD_CLASS", pa.string()),
        ("PK_VALUE", pa.string()),
        ("UPDATED_AT", pa.timestamp("us")),
        ("COLUMN_NAME", pa.string()),
        ("ROW_JSON", pa.string()),
    ]
)


def row_json(row: dict[str, object]) -> str:
    """The register's JSON form of a row: ISO timestamps, numbers as numbers, keys in column order."""

    def value(v: object) -> object:
        return v.isoformat() if isinstance(v, datetime) else v

    return json.dumps({k: value(v) for k, v in row.items()})


def inject(
    table_name: str, table: pa.Table, rng: np.random.Generator, rate: float, primary_key: str
) -> tuple[pa.Table, pa.Table]:
    """Make about `rate` of the rows bad; returns (table with bad rows, register rows)."""
    n = table.num_rows
    count = int(rng.binomial(n, rate)) if rate > 0 and n else 0
    if count == 0:
        return table, REGISTER_SCHEMA.empty_table()
    targets = TARGETS[table_name]
    classes = np.array(list(targets), dtype=object)
    picked = np.sort(rng.choice(n, size=min(count, n), replace=False))
    kinds = classes[rng.integers(0, len(classes), len(picked))]
    columns = {name: table.column(name).combine_chunks() for name in table.column_names}
    register: list[dict[str, object]] = []
    defect_column: dict[int, str] = {}
    for kind in ("negative_amount", "unknown_enum", "future_timestamp", "malformed_email"):
        rows = picked[kinds == kind]
        if not len(rows):
            continue
        choice = rng.integers(0, len(targets[kind]), len(rows))
        for c, column in enumerate(targets[kind]):
            at = rows[choice == c]
            if len(at):
                columns[column] = _spoil(kind, column, columns[column], at, rng)
                defect_column.update(dict.fromkeys(at.tolist(), column))
    spoiled = pa.table(columns)
    extra = []
    for kind in ("null_pk", "duplicate_pk"):
        rows = picked[kinds == kind]
        if not len(rows):
            continue
        copies = spoiled.take(pa.array(rows))
        if kind == "null_pk":
            pk_index = copies.column_names.index(primary_key)
            copies = copies.set_column(
                pk_index, primary_key, pa.nulls(len(rows), copies.schema.field(primary_key).type)
            )
        extra.append((kind, copies))
    kind_of = {int(i): str(k) for i, k in zip(picked, kinds, strict=True)}
    modified_rows = sorted(defect_column)
    if modified_rows:
        for row_index, row in zip(
            modified_rows, spoiled.take(pa.array(modified_rows)).to_pylist(), strict=True
        ):
            register.append(
                _entry(table_name, kind_of[row_index], row, primary_key, defect_column[row_index])
            )
    for kind, copies in extra:
        for row in copies.to_pylist():
            register.append(_entry(table_name, kind, row, primary_key, primary_key))
    result = pa.concat_tables([spoiled, *(c for _, c in extra)])
    return result, pa.Table.from_pylist(register, schema=REGISTER_SCHEMA)


def _entry(
    table_name: str, kind: str, row: dict[str, object], primary_key: str, column: str
) -> dict[str, object]:
    pk = row[primary_key]
    return {
        "TABLE_NAME": table_name,
        "BAD_CLASS": kind,
        "PK_VALUE": None if pk is None else str(pk),
        "UPDATED_AT": row["UPDATED_AT"],
        "COLUMN_NAME": column,
        "ROW_JSON": row_json(row),
    }


def _spoil(kind: str, column: str, values: pa.Array, at: np.ndarray, rng: np.random.Generator) -> pa.Array:
    mask = np.zeros(len(values), dtype=bool)
    mask[at] = True
    current = values.take(pa.array(at))
    if kind == "negative_amount":
        replacement = pc.negate(pc.max_element_wise(current, pa.scalar(0.01)))
    elif kind == "unknown_enum":
        replacement = pa.array([UNKNOWN_ENUM_VALUES[column]] * len(at), values.type)
    elif kind == "future_timestamp":
        years = rng.integers(10 * 365, 30 * 365, len(at)) * 86_400_000_000
        micros = pc.cast(current, pa.int64()).to_numpy(zero_copy_only=False) + years
        replacement = pa.array(micros, pa.timestamp("us"))
    elif kind == "malformed_email":
        shapes = rng.integers(0, len(_MALFORMED), len(at))
        broken = []
        for email, shape in zip(current.to_pylist(), shapes, strict=True):
            local, _, domain = str(email).partition("@")
            broken.append(_MALFORMED[shape].format(local=local, domain=domain))
        replacement = pa.array(broken, values.type)
    else:  # pragma: no cover - guarded by TARGETS
        raise ValueError(kind)
    return pc.replace_with_mask(values, pa.array(mask), replacement.cast(values.type))
