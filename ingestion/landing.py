"""Writing a run into the lake: Parquet parts, then the manifest that commits them.

Layout (read by dbt; keep it stable):

    bronze/<table>/ingest_date=YYYY-MM-DD/run_id=<id>/part-NNNNN.parquet      landed rows (zstd)
    quarantine/<table>/ingest_date=YYYY-MM-DD/run_id=<id>/part-NNNNN.parquet  rejected rows + _reasons
    bronze/_manifests/<table>/<run_id>.json                                   the commit record

A run folder without a manifest is not committed and readers ignore it. The manifest is written last and
atomically (a temporary name, then a move: a rename locally, one PUT on S3), so readers see a run whole or
not at all. Each part is encoded in memory (bounded by `part_rows`), hashed, and written in one call.

`LAKEML_INGEST__FAULT_AT=<boundary>:<n>` (test-only) SIGKILLs this process the n-th time it reaches a write
boundary; the crash-sweep test uses it to prove that a crash at any point loses and duplicates nothing.
`LAKEML_INGEST__FAULT_AT=<boundary>:wait=<file>` pauses there until the file exists (to stage a race in tests).
Never set either in production.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ingestion.config import TableConfig
from ingestion.retry import transient_retry
from lakeml.core.errors import LakemlError
from lakeml.core.lake import BRONZE, QUARANTINE, LakeStorage

MANIFESTS = "_manifests"
REASONS = "_reasons"
FAULT_ENV = "LAKEML_INGEST__FAULT_AT"

# Every place a crash can leave the lake in a different state, in the order a run reaches them.
WRITE_BOUNDARIES = (
    "run_start",  # watermark read, nothing written
    "cleaned",  # run folders emptied
    "part_partial",  # half of a bronze part's bytes written
    "part",  # a bronze part written
    "quarantine_part",  # a quarantine part written
    "before_manifest",  # all parts written, no manifest
    "manifest_tmp",  # manifest under its temporary name, not yet moved
    "manifest",  # manifest committed, watermark not advanced
    "advanced",  # watermark advanced, run not reported
)

_fault_lock = threading.Lock()
_fault_seen: Counter[str] = Counter()


def fault_point(boundary: str) -> None:
    """Test-only crash hook: SIGKILL at the n-th arrival at `boundary` when LAKEML_INGEST__FAULT_AT asks for it."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != boundary:
        return
    if nth.startswith("wait="):  # test-only pause: hold here until the named file exists (max 120 s)
        flag, deadline = Path(nth.removeprefix("wait=")), time.monotonic() + 120
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return
    with _fault_lock:
        _fault_seen[boundary] += 1
        hit = _fault_seen[boundary] == int(nth or 1)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)


def quarantine_schema(schema: pa.Schema) -> pa.Schema:
    return schema.append(pa.field(REASONS, pa.list_(pa.string())))


@dataclass(frozen=True)
class RunPaths:
    """Where one run's files go."""

    table: str  # lower case
    ingest_date: str
    run_id: str

    @property
    def bronze_dir(self) -> str:
        return f"{BRONZE}/{self.table}/ingest_date={self.ingest_date}/run_id={self.run_id}"

    @property
    def quarantine_dir(self) -> str:
        return f"{QUARANTINE}/{self.table}/ingest_date={self.ingest_date}/run_id={self.run_id}"

    @property
    def manifest(self) -> str:
        return manifest_path(self.table, self.run_id)


def manifest_dir(table_lower: str) -> str:
    return f"{BRONZE}/{MANIFESTS}/{table_lower}"


def manifest_path(table_lower: str, run_id: str) -> str:
    return f"{manifest_dir(table_lower)}/{run_id}.json"


@dataclass
class FileRecord:
    path: str  # relative to the lake root
    rows: int
    bytes: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


@transient_retry
def _put(lake: LakeStorage, path: str, data: pa.Buffer | bytes, partial_boundary: str | None = None) -> None:
    view = memoryview(data)
    with lake.fs.open_output_stream(lake.path(path)) as out:
        if partial_boundary and os.environ.get(FAULT_ENV, "").startswith(partial_boundary + ":"):
            out.write(view[: len(view) // 2])
            out.flush()
            fault_point(partial_boundary)
            out.write(view[len(view) // 2 :])
        else:
            out.write(view)


@dataclass
class PartWriter:
    """Rolls Parquet parts of at most `part_rows` rows under one run folder, hashing each as it lands."""

    lake: LakeStorage
    folder: str
    schema: pa.Schema
    table: TableConfig
    boundary: str  # fault boundary reached after each part
    files: list[FileRecord] = field(default_factory=list)
    _sink: pa.BufferOutputStream | None = None
    _writer: pq.ParquetWriter | None = None
    _rows_in_part: int = 0

    def write(self, rows: pa.Table) -> None:
        offset = 0
        while offset < rows.num_rows:
            if self._writer is None:
                self._open()
            take = min(self.table.part_rows - self._rows_in_part, rows.num_rows - offset)
            assert self._writer is not None
            self._writer.write_table(rows.slice(offset, take), row_group_size=self.table.chunk_rows)
            self._rows_in_part += take
            offset += take
            if self._rows_in_part >= self.table.part_rows:
                self._flush()

    def close(self) -> list[FileRecord]:
        if self._writer is not None:
            self._flush()
        return self.files

    def _open(self) -> None:
        if not self.files:
            self.lake.fs.create_dir(self.lake.path(self.folder), recursive=True)
        self._sink = pa.BufferOutputStream()
        compression = None if self.table.compression == "none" else self.table.compression
        level = self.table.compression_level if compression in ("zstd", "gzip") else None
        self._writer = pq.ParquetWriter(
            self._sink, self.schema, compression=compression, compression_level=level
        )
        self._rows_in_part = 0

    def _flush(self) -> None:
        assert self._writer is not None and self._sink is not None
        self._writer.close()
        data = self._sink.getvalue()
        path = f"{self.folder}/part-{len(self.files):05d}.parquet"
        _put(self.lake, path, data, partial_boundary="part_partial" if self.boundary == "part" else None)
        self.files.append(
            FileRecord(path, self._rows_in_part, data.size, hashlib.sha256(memoryview(data)).hexdigest())
        )
        self._writer, self._sink, self._rows_in_part = None, None, 0
        fault_point(self.boundary)


@transient_retry
def clean_run(lake: LakeStorage, paths: RunPaths) -> None:
    """Empty this run's folders so a re-run of the window rewrites exactly the same set of files."""
    for folder in (paths.bronze_dir, paths.quarantine_dir):
        full = lake.path(folder)
        if lake.fs.get_file_info(full).type == pafs.FileType.Directory:
            lake.fs.delete_dir(full)


# --- manifests ------------------------------------------------------------------------------------------


@transient_retry
def write_manifest(lake: LakeStorage, table_lower: str, manifest: dict[str, Any]) -> str:
    """Commit a run: write the one-line JSON under a temporary name, then move it into place."""
    path = manifest_path(table_lower, manifest["run_id"])
    tmp = f"{manifest_dir(table_lower)}/.tmp-{manifest['run_id']}.json"
    lake.fs.create_dir(lake.path(manifest_dir(table_lower)), recursive=True)
    with lake.fs.open_output_stream(lake.path(tmp)) as out:
        out.write(json.dumps(manifest, separators=(",", ":"), default=str).encode() + b"\n")
    fault_point("manifest_tmp")
    lake.fs.move(lake.path(tmp), lake.path(path))
    fault_point("manifest")
    return path


@transient_retry
def delete_manifest(lake: LakeStorage, table_lower: str, run_id: str) -> None:
    path = lake.path(manifest_path(table_lower, run_id))
    if lake.fs.get_file_info(path).type == pafs.FileType.File:
        lake.fs.delete_file(path)


@transient_retry
def read_manifests(lake: LakeStorage, table_lower: str) -> list[dict[str, Any]]:
    """Every committed manifest of a table (temporary `.tmp-*` files are not commits), oldest first."""
    folder = lake.path(manifest_dir(table_lower))
    selector = pafs.FileSelector(folder, allow_not_found=True)
    found = []
    for info in lake.fs.get_file_info(selector):
        if info.type != pafs.FileType.File or not info.base_name.endswith(".json"):
            continue
        if info.base_name.startswith("."):
            continue
        with lake.fs.open_input_stream(info.path) as handle:
            text = handle.read().decode()
        try:
            found.append(json.loads(text))
        except ValueError:
            raise LakemlError(
                f"manifest {info.path} is not valid JSON; it was not written by lakeml (manifests are "
                "moved into place whole). Inspect it and remove it if it is foreign."
            ) from None
    return sorted(found, key=lambda m: (m["committed_at"], m["run_id"]))


def read_parts(
    lake: LakeStorage, files: list[dict[str, Any]], columns: list[str] | None = None
) -> pa.Table | None:
    tables = []
    for record in files:
        with lake.fs.open_input_file(lake.path(record["path"])) as handle:
            tables.append(pq.read_table(handle, columns=columns))
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")
