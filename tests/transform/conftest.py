"""Fixtures of the dbt tests: an isolated LAKEML_HOME per module (Spark builds are shared by the
tests of a module), the real `lakeml` CLI in a subprocess, and lake tables read back with pyarrow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from tests.conftest import REPO


@dataclass
class Home:
    """One LAKEML_HOME with its lake, and a way to run `lakeml` against it."""

    path: Path
    config: Path

    @property
    def lake(self) -> Path:
        return self.path / "lake"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEML_", "DBT_"))}
        return {**env, "LAKEML_HOME": str(self.path), "LAKEML_CONFIG": str(self.config), "COLUMNS": "200"}

    def lakeml(self, *args: str, timeout: float = 900) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "lakeml.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            env=self.env(),
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def table(self, layer_and_name: str) -> pa.Table:
        """A silver/gold/quarantine table as written by Spark (Hive partition folders become columns)."""
        folder = self.lake / layer_and_name
        dataset = ds.dataset(str(folder), format="parquet", partitioning="hive", exclude_invalid_files=True)
        return dataset.to_table()


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-8000:]}"


def make_home(base: Path) -> Home:
    config = base / "lakeml.toml"
    config.write_text("# test config: defaults only\n")
    return Home(path=base / "lakeml-home", config=config)


@pytest.fixture(scope="module")
def module_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    yield make_home(tmp_path_factory.mktemp("dbt"))


def partition_files(folder: Path) -> dict[str, set[tuple[str, int]]]:
    """{partition folder: {(file name, mtime_ns)}} — what a rewrite of a partition changes."""
    out: dict[str, set[tuple[str, int]]] = {}
    for part in sorted(p for p in folder.iterdir() if p.is_dir() and "=" in p.name):
        out[part.name] = {(f.name, f.stat().st_mtime_ns) for f in part.iterdir() if f.is_file()}
    return out
