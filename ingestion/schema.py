"""The source's tables (RETAIL.RAW) and the extraction views over them (RETAIL.EXTRACT): names, columns,
Snowflake types, primary keys and enums.

One home for the shape of the source, read by the generator (to create and fill tables), by ingestion
(contracts, cursor and key columns) and mirrored by the dbt models (the views in
`dbt_project/models/snowflake/`, the bronze sources). Change a column here and every consumer sees it.

Ingestion reads the views, not the tables (`VIEWS`, derived from `TABLES` by `extraction_view`): personal
data is minimised inside Snowflake, so a raw e-mail address or name never reaches bronze or quarantine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

CURSOR_COLUMN = "UPDATED_AT"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
RAW_SCHEMA = "RAW"  # the operational tables
EXTRACT_SCHEMA = "EXTRACT"  # the dbt-built extraction views ingestion reads


@dataclass(frozen=True)
class Column:
    name: str
    sf_type: str  # Snowflake type as written in DDL
    nullable: bool = True  # the contract's expectation; DDL never enforces it, so bad rows can exist
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    pattern: str | None = None  # regular expression a non-null value must match in full
    # A business timestamp is never later than the row's UPDATED_AT: an event cannot postdate the write
    # that recorded it. A value after UPDATED_AT is the generator's `future_timestamp` defect.
    not_after_cursor: bool = False
    # Personal data, and what the extraction view does with it: "email" becomes <NAME>_SHA256 and
    # <NAME>_VALID (see `extraction_view`); "name" is not extracted.
    pii: Literal["email", "name"] | None = None
    # A view column derived from an e-mail inside Snowflake: "sha256" (hex SHA-256 of lower(trim(address)))
    # or "valid" (BOOLEAN: the address passes the contract's e-mail rule). The contract checks both.
    email_derived: Literal["sha256", "valid"] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    primary_key: str
    columns: tuple[Column, ...]
    event_time: str | None = None  # business timestamp of a row (orders: ORDER_TS) for time partitioning
    cursor: str = CURSOR_COLUMN
    description: str = ""
    schema: str = RAW_SCHEMA  # Snowflake schema of the object: RAW (table) or EXTRACT (extraction view)
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def ddl(self, qualified_name: str) -> str:
        cols = ",\n  ".join(f"{c.name} {c.sf_type}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {qualified_name} (\n  {cols}\n)"


CHANNELS = ("web", "app", "store")
REGIONS = ("north", "south", "east", "west", "central")
LOYALTY_TIERS = ("none", "silver", "gold", "platinum")
CATEGORIES = ("grocery", "home", "electronics", "fashion", "beauty", "toys", "sports")
ORDER_STATUSES = ("placed", "shipped", "delivered", "cancelled", "returned")
TICKET_CATEGORIES = ("delivery", "billing", "product_quality", "account", "returns")
TICKET_SEVERITIES = ("low", "medium", "high", "critical")
TICKET_STATUSES = ("open", "pending", "resolved", "closed")

CUSTOMERS = Table(
    name="CUSTOMERS",
    primary_key="CUSTOMER_ID",
    description="One row per customer; profile edits bump UPDATED_AT.",
    columns=(
        Column("CUSTOMER_ID", "NUMBER(38,0)", nullable=False),
        Column("EMAIL", "VARCHAR", pattern=EMAIL_PATTERN, pii="email"),
        Column("FIRST_NAME", "VARCHAR", pii="name"),
        Column("LAST_NAME", "VARCHAR", pii="name"),
        Column("BIRTH_YEAR", "NUMBER(4,0)", minimum=1900),
        Column("SIGNUP_AT", "TIMESTAMP_NTZ", nullable=False, not_after_cursor=True),
        Column("SIGNUP_CHANNEL", "VARCHAR", enum=CHANNELS),
        Column("REGION", "VARCHAR", enum=REGIONS),
        Column("LOYALTY_TIER", "VARCHAR", enum=LOYALTY_TIERS),
        Column("MARKETING_OPT_IN", "BOOLEAN"),
        Column("UPDATED_AT", "TIMESTAMP_NTZ", nullable=False),
    ),
)

PRODUCTS = Table(
    name="PRODUCTS",
    primary_key="PRODUCT_ID",
    description="Product catalogue; price changes bump UPDATED_AT.",
    columns=(
        Column("PRODUCT_ID", "NUMBER(38,0)", nullable=False),
        Column("SKU", "VARCHAR"),
        Column("PRODUCT_NAME", "VARCHAR"),
        Column("CATEGORY", "VARCHAR", enum=CATEGORIES),
        Column("LIST_PRICE", "NUMBER(10,2)", minimum=0),
        Column("IS_ACTIVE", "BOOLEAN"),
        Column("UPDATED_AT", "TIMESTAMP_NTZ", nullable=False),
    ),
)

ORDERS = Table(
    name="ORDERS",
    primary_key="ORDER_ID",
    event_time="ORDER_TS",
    description="One row per order; status changes (shipped, delivered, cancelled, returned) bump UPDATED_AT.",
    columns=(
        Column("ORDER_ID", "NUMBER(38,0)", nullable=False),
        Column("CUSTOMER_ID", "NUMBER(38,0)", nullable=False),
        Column("ORDER_TS", "TIMESTAMP_NTZ", nullable=False, not_after_cursor=True),
        Column("CHANNEL", "VARCHAR", enum=CHANNELS),
        Column("STATUS", "VARCHAR", enum=ORDER_STATUSES),
        Column("ITEM_COUNT", "NUMBER(9,0)", minimum=0),
        Column("GROSS_AMOUNT", "NUMBER(12,2)", minimum=0),
        Column("DISCOUNT_AMOUNT", "NUMBER(12,2)", minimum=0),
        Column("NET_AMOUNT", "NUMBER(12,2)", minimum=0),
        Column("UPDATED_AT", "TIMESTAMP_NTZ", nullable=False),
    ),
)

ORDER_ITEMS = Table(
    name="ORDER_ITEMS",
    primary_key="ORDER_ITEM_ID",
    event_time="ORDER_TS",
    description="Lines of an order; written with the order.",
    columns=(
        Column("ORDER_ITEM_ID", "NUMBER(38,0)", nullable=False),
        Column("ORDER_ID", "NUMBER(38,0)", nullable=False),
        Column("PRODUCT_ID", "NUMBER(38,0)", nullable=False),
        Column("ORDER_TS", "TIMESTAMP_NTZ", nullable=False, not_after_cursor=True),
        Column("QUANTITY", "NUMBER(9,0)", minimum=1),
        Column("UNIT_PRICE", "NUMBER(10,2)", minimum=0),
        Column("DISCOUNT_AMOUNT", "NUMBER(12,2)", minimum=0),
        Column("UPDATED_AT", "TIMESTAMP_NTZ", nullable=False),
    ),
)

SUPPORT_TICKETS = Table(
    name="SUPPORT_TICKETS",
    primary_key="TICKET_ID",
    event_time="CREATED_AT",
    description="Support tickets; resolution and satisfaction bump UPDATED_AT.",
    columns=(
        Column("TICKET_ID", "NUMBER(38,0)", nullable=False),
        Column("CUSTOMER_ID", "NUMBER(38,0)", nullable=False),
        Column("CREATED_AT", "TIMESTAMP_NTZ", nullable=False, not_after_cursor=True),
        Column("CATEGORY", "VARCHAR", enum=TICKET_CATEGORIES),
        Column("SEVERITY", "VARCHAR", enum=TICKET_SEVERITIES),
        Column("STATUS", "VARCHAR", enum=TICKET_STATUSES),
        Column("SATISFACTION_SCORE", "NUMBER(1,0)", minimum=1),
        Column("RESOLVED_AT", "TIMESTAMP_NTZ", not_after_cursor=True),
        Column("UPDATED_AT", "TIMESTAMP_NTZ", nullable=False),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (CUSTOMERS, PRODUCTS, ORDERS, ORDER_ITEMS, SUPPORT_TICKETS)}


def extraction_view(table: Table) -> Table:
    """What `RETAIL.EXTRACT.<table>` exposes: the table's columns and types, with personal data minimised
    inside Snowflake (`dbt_project/models/snowflake/extract_<table>.sql` implements it; a test checks the
    SQL against this). An e-mail column EMAIL becomes

    * EMAIL_SHA256 — hex SHA-256 of lower(trim(EMAIL)), NULL when EMAIL is NULL: the join key silver keeps;
    * EMAIL_VALID — whether EMAIL passes the contract's e-mail rule, judged in Snowflake (NULL when EMAIL
      is NULL), so a malformed address is still quarantined with a reason without the address leaving;

    name columns are not extracted. Other columns are selected as they are, with their types."""
    columns: list[Column] = []
    for column in table.columns:
        if column.pii == "name":
            continue
        if column.pii == "email":
            columns += [
                Column(f"{column.name}_SHA256", "VARCHAR", nullable=column.nullable, email_derived="sha256"),
                Column(f"{column.name}_VALID", "BOOLEAN", nullable=column.nullable, email_derived="valid"),
            ]
            continue
        columns.append(column)
    return replace(table, columns=tuple(columns), schema=EXTRACT_SCHEMA)


VIEWS: dict[str, Table] = {name: extraction_view(t) for name, t in TABLES.items()}
OBJECTS: dict[str, dict[str, Table]] = {RAW_SCHEMA: TABLES, EXTRACT_SCHEMA: VIEWS}


def contract_table(name: str, schema: str) -> Table | None:
    """The definition of `name` as read from `schema` (RAW table or EXTRACT view); None if unknown."""
    return OBJECTS.get(schema.upper(), {}).get(name.upper())


# Side schema of the local source, never extracted: generator state and the register of injected bad rows.
META_SCHEMA = "LAKEML_META"
BAD_ROWS_TABLE = "INJECTED_BAD_ROWS"  # (TABLE_NAME, BAD_CLASS, PK_VALUE, UPDATED_AT, COLUMN_NAME, ROW_JSON)

# What `lakeml source drift` does to the source (not part of the contract above, on purpose).
DRIFT_ADDED_COLUMN = ("CUSTOMERS", "PREFERRED_LANGUAGE", "VARCHAR")
DRIFT_RETYPED_COLUMN = ("SUPPORT_TICKETS", "SATISFACTION_SCORE", "NUMBER(1,0)", "VARCHAR")
