"""`ingestion/sources.yml`: which tables are extracted and how, as one validated, typed object.

The YAML is the operator's interface, so a mistake must name the file, the table and the key, and say
what is accepted. Defaults for primary key and cursor come from `ingestion.schema` (the single source
of truth for the source tables); anything else needs them spelled out.

`object` defaults to the table's extraction view, `RETAIL.EXTRACT.<TABLE>` (built in Snowflake by dbt,
`dbt_project/models/snowflake/`): raw personal data never leaves Snowflake. Reading the raw table takes an
explicit `object: RETAIL.RAW.<TABLE>`. The contract follows the object, by one rule: the schema part of
`object` (RAW or EXTRACT) picks the raw table's or the view's suite (`TableConfig.contract_table`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingestion.schema import OBJECTS, TABLES, Table, contract_table
from lakeml.core.errors import UsageError
from lakeml.core.settings import Settings

SOURCES_ENV = "LAKEML_INGEST__SOURCES"
DEFAULT_SOURCES = Path(__file__).resolve().parent / "sources.yml"
DEFAULT_OBJECT = "RETAIL.EXTRACT.{table}"  # the extraction view of the table

_IDENT = r"[A-Za-z_][A-Za-z0-9_$]*"
_OBJECT_RE = re.compile(rf"^{_IDENT}(\.{_IDENT}){{0,2}}$")
_COLUMN_RE = re.compile(rf"^{_IDENT}$")
_STAGE_RE = re.compile(rf"^@{_IDENT}(\.{_IDENT}){{0,2}}(/[A-Za-z0-9_=./-]*)?$")


class TableOptions(BaseModel):
    """Options every table has; `defaults` in the YAML sets them for all tables at once."""

    model_config = ConfigDict(extra="forbid")

    lag_seconds: int = Field(300, ge=0)
    chunk_rows: int = Field(100_000, ge=1, le=10_000_000)
    part_rows: int = Field(1_000_000, ge=1, le=100_000_000)
    page_rows: int = Field(500_000, ge=0, le=100_000_000)  # keyset page per query; 0 = one query
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    compression_level: int | None = Field(3, ge=1, le=22)
    mode: Literal["fetch", "unload"] = "fetch"
    contract: bool = True
    on_violation: Literal["quarantine_rows", "fail_batch"] = "quarantine_rows"
    on_drift: Literal["fail_batch", "quarantine_rows"] = "fail_batch"
    stage: str | None = (
        None  # unload mode: Snowflake external stage over the lake bucket, e.g. @RETAIL.RAW.LAKE
    )


class TableConfig(TableOptions):
    """One extracted table: where it is in Snowflake and how to window it."""

    name: str
    object: str
    primary_key: str
    cursor: str

    @property
    def lag(self) -> timedelta:
        return timedelta(seconds=self.lag_seconds)

    @property
    def lower(self) -> str:
        return self.name.lower()

    @property
    def object_schema(self) -> str | None:
        """The schema part of `object`, upper case (RAW, EXTRACT, …); None for an unqualified name."""
        parts = self.object.split(".")
        return parts[-2].upper() if len(parts) > 1 else None

    @property
    def contract_table(self) -> Table | None:
        """What the contract checks rows against, chosen by the schema of `object`: RAW -> the raw table
        (`schema.TABLES`, suites/raw/), EXTRACT -> its extraction view (`schema.VIEWS`, suites/extract/).
        None when `contract` is off. The validator guarantees one of the two otherwise."""
        if not self.contract:
            return None
        return contract_table(self.name, self.object_schema or "")

    @model_validator(mode="after")
    def _check(self) -> TableConfig:
        if not _OBJECT_RE.match(self.object):
            raise ValueError(f"object {self.object!r} is not a Snowflake name like RETAIL.RAW.ORDERS")
        for key in ("primary_key", "cursor"):
            if not _COLUMN_RE.match(getattr(self, key)):
                raise ValueError(f"{key} {getattr(self, key)!r} is not a plain column name")
        if self.mode == "unload":
            if not self.stage or not _STAGE_RE.match(self.stage):
                raise ValueError(
                    "mode 'unload' needs stage: '@DB.SCHEMA.STAGE' (an external stage on the lake)"
                )
            if self.contract:
                raise ValueError(
                    "mode 'unload' writes Parquet inside Snowflake, so the per-row contract cannot run; "
                    "set contract: false (dbt tests check unloaded tables) or use mode: fetch"
                )
        if self.contract and self.name not in TABLES:
            raise ValueError(
                f"contract: true needs a table definition in ingestion/schema.py; {self.name} has none "
                "(add it there or set contract: false)"
            )
        if self.contract and self.object_schema not in OBJECTS:
            raise ValueError(
                f"object {self.object!r}: contract: true picks the contract by the schema of object, "
                f"EXTRACT (the extraction view, the default) or RAW (the raw table), and "
                f"{self.object_schema or 'an unqualified name'} is neither; set object: "
                f"{DEFAULT_OBJECT.format(table=self.name)} or RETAIL.RAW.{self.name}, or contract: false"
            )
        return self


class SourcesConfig(BaseModel):
    """The whole file: tables by upper-case name, in extraction order."""

    path: Path
    tables: dict[str, TableConfig]

    def table(self, name: str) -> TableConfig:
        key = name.upper()
        if key not in self.tables:
            raise UsageError(
                f"table {name!r} is not configured in {self.path}; configured: {', '.join(self.tables)}"
            )
        return self.tables[key]


def sources_path(settings: Settings) -> Path:
    """`settings.ingest.sources` if set (tests and deployments point it elsewhere), else the packaged file."""
    return settings.ingest.sources or DEFAULT_SOURCES


def load_sources(path: Path = DEFAULT_SOURCES) -> SourcesConfig:
    """Read and validate the sources file; any problem becomes one UsageError naming file, table and key."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UsageError(
            f"cannot read {path}: {exc.strerror}; set {SOURCES_ENV} to the sources file"
        ) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), dict) or not raw["tables"]:
        raise UsageError(
            f"{path}: expected a mapping with a non-empty 'tables:' section (and optional 'defaults:')"
        )
    unknown = set(raw) - {"defaults", "tables"}
    if unknown:
        raise UsageError(f"{path}: unknown top-level key(s) {sorted(unknown)}; use 'defaults' and 'tables'")
    defaults = raw.get("defaults") or {}
    try:
        TableOptions.model_validate(defaults)
    except ValidationError as exc:
        raise UsageError(f"{path}: defaults: {_problems(exc)}") from None
    tables: dict[str, TableConfig] = {}
    for name, options in raw["tables"].items():
        key = str(name).upper()
        merged: dict[str, Any] = {**defaults, **(options or {})}
        known = TABLES.get(key)
        merged.setdefault("object", DEFAULT_OBJECT.format(table=key))
        if known is not None:
            merged.setdefault("primary_key", known.primary_key)
            merged.setdefault("cursor", known.cursor)
        try:
            tables[key] = TableConfig.model_validate({**merged, "name": key})
        except ValidationError as exc:
            raise UsageError(f"{path}: table {key}: {_problems(exc)}") from None
    return SourcesConfig(path=path, tables=tables)


def _problems(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key; accepted: {', '.join(TableConfig.model_fields)}"
        elif error["type"] == "missing":
            message = "required (no default for a table outside ingestion/schema.py)"
        parts.append(f"{key}: {message}" if key else message)
    return "; ".join(parts)
