"""Module-scoped LAKEML_HOMEs with a seeded local source, shared by several tests (one server each)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult, run_cli, stop_local_servers


class SourceHome:
    """A LAKEML_HOME of its own: run the CLI in it, or open a connector connection to its source."""

    def __init__(self, path: Path, config: Path) -> None:
        self.path = path
        self.env = {"LAKEML_HOME": str(path), "LAKEML_CONFIG": str(config), "COLUMNS": "200"}

    def cli(self, *args: str) -> CliResult:
        """`lakeml ARGS` against this home, in this process (the server is a process of its own)."""
        return run_cli(args, self.env)

    def ok(self, *args: str) -> Any:
        result = self.cli("--json", *args)
        assert result.code == 0, result
        return result.json

    def connect(self) -> Any:
        from lakeml.core.settings import load_settings
        from lakeml.twins.snowflake.connection import connect

        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            return connect(load_settings())
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            cur = conn.cursor()
            cur.execute(statement)
            return list(cur.fetchall())

    def frame(self, statement: str) -> Any:
        with self.connect() as conn:
            cur = conn.cursor()
            cur.execute(statement)
            return cur.fetch_pandas_all()

    def digest(self) -> dict[str, str]:
        """sha256 of each RAW table's rows in a total order (all columns), plus the bad-row register."""
        from ingestion.schema import TABLES

        found = {}
        with self.connect() as conn:
            cur = conn.cursor()
            for name in [*TABLES, "LAKEML_META.INJECTED_BAD_ROWS"]:
                cur.execute(f"SELECT * FROM RETAIL.{'RAW.' if '.' not in name else ''}{name}")
                ordered = sorted(repr(row) for row in cur.fetchall())  # physical order may differ
                found[name] = hashlib.sha256("\n".join(ordered).encode()).hexdigest()
        return found


@pytest.fixture(scope="module")
def source_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], SourceHome]]:
    """Factory of isolated homes for one test module; their servers are stopped at the end."""
    made: list[SourceHome] = []

    def make(name: str) -> SourceHome:
        root = tmp_path_factory.mktemp(name)
        config = root / "lakeml.toml"
        config.write_text("# test config: defaults only\n")
        home = SourceHome(root / "lakeml-home", config)
        made.append(home)
        return home

    yield make
    for home in made:
        stop_local_servers(home.path)
