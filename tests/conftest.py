"""Shared fixtures: every test gets its own LAKEML_HOME, and local servers it starts are stopped after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
REQUIRED_TOOLS_ENV = "LAKEML_TEST_REQUIRE_TOOLS"
# Rich reads the width once, when the CLI's consoles are built: wide enough that messages never wrap.
os.environ["COLUMNS"] = "200"


def missing_tool(tool: str, reason: str) -> NoReturn:
    """A test needs a machine tool that is not a Python package (Terraform, Chromium). On a laptop without
    it the test is skipped, saying what to install; where the tool must exist (.ci/run lists them in
    LAKEML_TEST_REQUIRE_TOOLS) its absence fails the test, so a missing tool cannot hide as a skip."""
    required = {t.strip() for t in os.environ.get(REQUIRED_TOOLS_ENV, "").split(",") if t.strip()}
    if tool in required:
        pytest.fail(f"{reason} ({tool} is required here: {REQUIRED_TOOLS_ENV}={','.join(sorted(required))})")
    pytest.skip(reason)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated LAKEML_HOME for this test; the local Snowflake server of it is stopped afterwards."""
    path = tmp_path / "lakeml-home"
    monkeypatch.setenv("LAKEML_HOME", str(path))
    monkeypatch.setenv("LAKEML_CONFIG", str(_empty_config(tmp_path)))
    monkeypatch.delenv("LAKEML_ENV", raising=False)
    yield path
    stop_local_servers(path)


def _empty_config(tmp_path: Path) -> Path:
    config = tmp_path / "lakeml.toml"
    config.write_text("# test config: defaults only\n")
    return config


def stop_local_servers(home_path: Path) -> None:
    from ingestion.source.kept import close_kept
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake import server

    close_kept()  # log the session out while its server still answers (no abort request to a dead port)

    previous = os.environ.get("LAKEML_HOME")
    os.environ["LAKEML_HOME"] = str(home_path)
    try:
        server.stop(load_settings())
    finally:
        if previous is None:
            os.environ.pop("LAKEML_HOME", None)
        else:
            os.environ["LAKEML_HOME"] = previous


class CliResult:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


# Commands that need a process of their own: Spark serves one LAKEML_HOME per process (transform, docs,
# run), and `serve` blocks. Everything else runs in the test's process, through the same Typer app.
OWN_PROCESS_COMMANDS = {"transform", "docs", "run", "serve"}
# Environment variables that make the command kill its own process (the crash sweep's fault points).
KILLS_ITS_PROCESS = ("LAKEML_INGEST__FAULT_AT",)


def _command(args: tuple[str, ...]) -> str | None:
    return next((a for a in args if not a.startswith("-")), None)


def run_cli(
    args: tuple[str, ...], env: dict[str, str], *, timeout: float = 600, subprocess_: bool | None = None
) -> CliResult:
    """`lakeml ARGS` with `env` added to this process's environment.

    In-process (Typer's CliRunner: stdout and stderr apart, exit code as the shell would see it) unless
    the command needs its own process; `subprocess_=True` forces a real `python -m lakeml.cli.main`."""
    own = (
        subprocess_
        if subprocess_ is not None
        else (_command(args) in OWN_PROCESS_COMMANDS or any(name in env for name in KILLS_ITS_PROCESS))
    )
    if own:
        proc = subprocess.run(
            [sys.executable, "-m", "lakeml.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            env={**os.environ, "COLUMNS": "200", **env},
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)
    from typer.testing import CliRunner

    from lakeml.cli.main import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **env}, catch_exceptions=True)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        stderr += "".join(traceback.format_exception(result.exception))
    return CliResult(result.exit_code, result.stdout, stderr)


@pytest.fixture
def lakeml(home: Path):
    """Run the real `lakeml` command line with this test's LAKEML_HOME (in-process where it can be)."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 600, subprocess: bool | None = None
    ) -> CliResult:
        return run_cli(
            args, {"LAKEML_HOME": str(home), **(env or {})}, timeout=timeout, subprocess_=subprocess
        )

    return run


# The few long groups, longest first: with `--no-loadscope-reorder` xdist hands work out in collection
# order, so each worker starts on a long group and the hundreds of short tests fill the gaps (longest
# processing time first). Otherwise the longest groups could be left to the end on one worker.
LONG_GROUPS_FIRST = (
    "emulator",
    "runner-workers",
    "dbt_glue",
    "dbt_build",
    "e2e",
    "dbt_gate",
    "extraction_views",
    "ingestion-visibility",
    "crash-sweep-aws",
    "dr",
    "ml_local_run",
    "terraform",
    "checkov",
)


def _long_group_rank(item: pytest.Item) -> int:
    groups = {str(m.args[0] if m.args else m.kwargs.get("name")) for m in item.iter_markers("xdist_group")}
    ranks = [LONG_GROUPS_FIRST.index(g) for g in groups if g in LONG_GROUPS_FIRST]
    return min(ranks) if ranks else len(LONG_GROUPS_FIRST)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make `xdist_group` marks work again under `--dist loadgroup`.

    pytest 9.2 derives `item.nodeid` from a structured id, so pytest-xdist 3.8's group suffix (written to
    the legacy `_nodeid`) is lost and grouped tests are silently spread over workers -- module fixtures
    then run once per worker (pytest-dev/pytest-xdist#1386). Re-apply the suffix where the scheduler
    reads it; a no-op once xdist fixes it, and without xdist.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    items.sort(key=_long_group_rank)  # stable: a group's tests keep their order
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # older pytest: xdist's own suffix works
        return
    for item in items:
        marks = item.iter_markers("xdist_group")
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks})
        suffix = f"@{'_'.join(groups)}"
        if groups and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)
