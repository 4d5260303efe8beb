"""Reading the Parquet folders steps receive (dbt exports and our own split outputs) and writing splits.

dbt-spark writes a table as a folder of part files, sometimes Hive-partitioned (`snapshot_date=…/`), with
Spark's marker files (`_SUCCESS`, `.crc`). `read_table` reads any of those layouts the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.dataset as ds

from lakeml.core.errors import LakemlError

if TYPE_CHECKING:
    import pandas as pd


def _parquet_files(folder: Path) -> list[str]:
    return sorted(
        str(p)
        for p in folder.rglob("*")
        if p.is_file()
        and not p.name.startswith(("_", "."))
        and p.suffix in (".parquet", "")
        and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts[:-1])
    )


def open_dataset(folder: Path, what: str) -> ds.Dataset:
    """All Parquet under `folder` as one dataset (Hive partition folders become columns), not read yet:
    a reader can take some columns, or filter on a partition column to open only its folders."""
    if not folder.exists():
        raise LakemlError(f"{what}: {folder} does not exist; check the step's input URI")
    files = [folder.as_posix()] if folder.is_file() else _parquet_files(folder)
    files = [f for f in files if f.endswith(".parquet") or Path(f).suffix == ""]
    if not files:
        raise LakemlError(f"{what}: no Parquet files under {folder}; was the table exported there?")
    return ds.dataset(
        files,
        format="parquet",
        partitioning="hive",
        partition_base_dir=folder.as_posix() if folder.is_dir() else None,
    )


def read_arrow(folder: Path, what: str) -> pa.Table:
    """All Parquet under `folder` as one table (Hive partition folders become columns)."""
    return open_dataset(folder, what).to_table()


def read_frame(folder: Path, what: str) -> pd.DataFrame:
    return read_arrow(folder, what).to_pandas()


def write_frame(frame: pd.DataFrame, folder: Path, name: str = "part-0000.parquet") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    frame.to_parquet(path, index=False)
    return path
