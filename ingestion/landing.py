"""Writing a run's rows into the lake: Parquet parts under the run's folders.

Layout (read by dbt; keep it stable):

    bronze/<table>/ingest_date=YYYY-MM-DD/run_id=<id>/part-NNNNN.parquet      landed rows (zstd)
    quarantine/<table>/ingest_date=YYYY-MM-DD/run_id=<id>/part-NNNNN.parquet  rejected rows + _reasons

The parts are not visible to any reader until the run's manifest commits them (`ingestion.manifest`) and
the visibility index lists the run (`ingestion.visibility`). Each part is encoded in memory (bounded by
`part_rows`), hashed, and written in one call, so a re-run of a window rewrites exactly the same files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ingestion.config import TableConfig
from ingestion.faults import Faults
from ingestion.manifest import FileRecord, manifest_path
from ingestion.retry import transient_retry
from lakeml.core.lake import BRONZE, QUARANTINE, LakeStorage

REASONS = "_reasons"


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


@transient_retry
def put_part(
    lake: LakeStorage, path: str, data: pa.Buffer | bytes, faults: Faults, partial_boundary: str | None
) -> None:
    """One part in one write; with the `partial_boundary` fault armed, half of it, then the fault."""
    view = memoryview(data)
    with lake.fs.open_output_stream(lake.path(path)) as out:
        if partial_boundary and faults.armed(partial_boundary):
            out.write(view[: len(view) // 2])
            out.flush()
            faults.point(partial_boundary)
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
    faults: Faults = field(default_factory=Faults)
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
        partial = "part_partial" if self.boundary == "part" else None
        put_part(self.lake, path, data, self.faults, partial)
        digest = hashlib.sha256(memoryview(data)).hexdigest()
        self.files.append(FileRecord(path=path, rows=self._rows_in_part, bytes=data.size, sha256=digest))
        self._writer, self._sink, self._rows_in_part = None, None, 0
        self.faults.point(self.boundary)


@transient_retry
def clean_run(lake: LakeStorage, paths: RunPaths) -> None:
    """Empty this run's folders so a re-run of the window rewrites exactly the same set of files."""
    for folder in (paths.bronze_dir, paths.quarantine_dir):
        full = lake.path(folder)
        if lake.fs.get_file_info(full).type == pafs.FileType.Directory:
            lake.fs.delete_dir(full)


def read_parts(
    lake: LakeStorage, files: Sequence[FileRecord], columns: list[str] | None = None
) -> pa.Table | None:
    """The rows of some parts (None when there are none)."""
    tables = []
    for record in files:
        with lake.fs.open_input_file(lake.path(record.path)) as handle:
            tables.append(pq.read_table(handle, columns=columns))
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")
