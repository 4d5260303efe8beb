"""The manifest: one JSON line per committed run, the only record of what a run landed.

A run folder without a manifest is not committed and readers ignore it. One typed model is written by
both fetch landing and unload and read by the commit protocol, verify and the visibility index, so the
fields cannot drift apart. The manifest is written last and atomically (a temporary name, then a move: a
rename locally, a server-side copy on S3), so readers see a run whole or not at all.

    bronze/_manifests/<table>/<run_id>.json
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa
import pyarrow.fs as pafs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator

from ingestion.extract import Mode
from ingestion.faults import NO_FAULTS, Faults
from ingestion.retry import transient_retry
from ingestion.watermarks.port import Watermark
from lakeml.core.errors import LakemlError
from lakeml.core.lake import BRONZE, LakeStorage

MANIFESTS = "_manifests"


class FileRecord(BaseModel):
    """One Parquet part of a run, as landed: path relative to the lake root, rows, bytes, content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    rows: int
    bytes: int
    sha256: str


class ColumnDoc(BaseModel):
    """One column of a landed schema: name and `str(pyarrow type)`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: str


class Manifest(BaseModel):
    """The commit record of one run. Times are written as `datetime.isoformat()` (naive cursors stay naive)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    table: str
    run_id: str
    ingest_date: str
    window_low: datetime | None
    window_high: datetime
    mode: Mode
    fetch_mode: Literal["fetch", "unload"]
    from_run_id: str | None
    extracted: int
    landed: int
    quarantined: int
    skipped_at_watermark: int = 0  # unload runs skip in SQL and do not count them
    batches: list[tuple[int, int, int]]  # (extracted, landed, quarantined) per chunk
    min_cursor: datetime | None
    max_cursor: datetime | None
    # bronze keeps its schema through a quarantined drift, so the next run still sees the drift
    schema_fingerprint: str | None
    columns: list[ColumnDoc] = Field(alias="schema")
    source_schema: list[ColumnDoc] = []
    files: list[FileRecord]
    quarantine_files: list[FileRecord]
    drift: str | None
    supersedes: list[str]  # a full refresh: the runs visible when it started, which it replaces
    new_watermark: Watermark
    committed_at: datetime

    @field_validator("new_watermark", mode="before")
    @classmethod
    def _watermark(cls, value: Any) -> Any:
        return Watermark.from_json(value) if isinstance(value, dict) else value

    @field_serializer("window_low", "window_high", "min_cursor", "max_cursor", "committed_at")
    def _time(self, value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    @field_serializer("new_watermark")
    def _mark(self, value: Watermark) -> dict[str, Any]:
        return value.to_json()

    def arrow_schema(self) -> pa.Schema:
        """The landed Arrow schema."""
        return pa.schema([pa.field(c.name, parse_type(c.type)) for c in self.columns])

    def to_line(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode() + b"\n"


def column_docs(schema: pa.Schema) -> list[ColumnDoc]:
    return [ColumnDoc(name=f.name, type=str(f.type)) for f in schema]


_SIMPLE = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "string": pa.string(),
    "large_string": pa.large_string(),
    "bool": pa.bool_(),
    "double": pa.float64(),
    "float": pa.float32(),
    "date32[day]": pa.date32(),
    "binary": pa.binary(),
    "time64[us]": pa.time64("us"),
    "timestamp[us]": pa.timestamp("us"),
    "timestamp[ns]": pa.timestamp("ns"),
    "timestamp[us, tz=UTC]": pa.timestamp("us", tz="UTC"),
    "null": pa.null(),
}
_DECIMAL = re.compile(r"^decimal128\((\d+), (\d+)\)$")


def parse_type(text: str) -> pa.DataType:
    """Inverse of `str(pa.DataType)` for the types bronze uses (manifests store schemas as text)."""
    if text in _SIMPLE:
        return _SIMPLE[text]
    match = _DECIMAL.match(text)
    if match:
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    raise LakemlError(f"manifest type {text!r} is unknown to ingestion/manifest.parse_type; add it there")


# --- where manifests live, and reading and writing them ---------------------------------------------------


def manifest_dir(table_lower: str) -> str:
    return f"{BRONZE}/{MANIFESTS}/{table_lower}"


def manifest_path(table_lower: str, run_id: str) -> str:
    return f"{manifest_dir(table_lower)}/{run_id}.json"


def put_atomically(
    lake: LakeStorage, path: str, data: bytes, faults: Faults = NO_FAULTS, boundary: str | None = None
) -> None:
    """Write `data` under a hidden temporary name next to `path`, then move it into place: readers (and
    Spark, which skips names starting with '.') see the old file or the new one, never a part of one.
    `boundary` is the fault point between the two steps."""
    folder, _, name = path.rpartition("/")
    tmp = f"{folder}/.tmp-{name}"
    lake.fs.create_dir(lake.path(folder), recursive=True)
    with lake.fs.open_output_stream(lake.path(tmp)) as out:
        out.write(data)
    if boundary:
        faults.point(boundary)
    lake.fs.move(lake.path(tmp), lake.path(path))


@transient_retry
def write_manifest(lake: LakeStorage, manifest: Manifest, faults: Faults = NO_FAULTS) -> str:
    """Commit a run: its manifest line, moved into place whole."""
    path = manifest_path(manifest.table.lower(), manifest.run_id)
    put_atomically(lake, path, manifest.to_line(), faults, boundary="manifest_tmp")
    faults.point("manifest")
    return path


@transient_retry
def delete_manifest(lake: LakeStorage, table_lower: str, run_id: str) -> None:
    """Un-commit a run (its files stay; without a manifest no reader sees them)."""
    path = lake.path(manifest_path(table_lower, run_id))
    if lake.fs.get_file_info(path).type == pafs.FileType.File:
        lake.fs.delete_file(path)


@transient_retry
def read_manifests(lake: LakeStorage, table_lower: str) -> list[Manifest]:
    """Every committed manifest of a table (temporary `.tmp-*` files are not commits), oldest first."""
    folder = lake.path(manifest_dir(table_lower))
    found = []
    for info in lake.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True)):
        if info.type != pafs.FileType.File or not info.base_name.endswith(".json"):
            continue
        if info.base_name.startswith("."):
            continue
        with lake.fs.open_input_stream(info.path) as handle:
            text = handle.read().decode()
        try:
            found.append(Manifest.model_validate_json(text))
        except ValidationError as exc:
            raise LakemlError(
                f"manifest {info.path} is not a lakeml manifest ({exc.error_count()} problem(s), first: "
                f"{_first_problem(exc)}); manifests are moved into place whole, so it was not written by "
                "lakeml ingestion. Inspect it and remove it if it is foreign."
            ) from None
    return sorted(found, key=lambda m: (m.committed_at, m.run_id))


def committed_tables(lake: LakeStorage) -> list[str]:
    """Lower-case names of the tables that have a manifest folder."""
    selector = pafs.FileSelector(lake.path(BRONZE, MANIFESTS), allow_not_found=True)
    infos = lake.fs.get_file_info(selector)
    return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)


def by_run(manifests: Sequence[Manifest]) -> dict[str, Manifest]:
    return {m.run_id: m for m in manifests}


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc']) or '(file)'}: {error['msg']}"
