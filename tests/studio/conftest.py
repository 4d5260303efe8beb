"""The studio over a real LAKEML_HOME: three registered versions whose artefacts deploy locally, and
small pipeline executions the local runner makes in well under a second (the runner tests' toy jobs)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ml_pipelines.runner.test_engine import gated
from tests.ml_pipelines.serving.conftest import free_port, train_model

GROUP = "lakeml-churn"
PIPELINE = "studio-demo"
REPO = Path(__file__).resolve().parents[2]


def seed_registry(home: Path) -> None:
    """Three pending versions of the default group (AUC 0.81, 0.83, 0.85), as the register step leaves
    them; each artefact is a real model, so approving deploys it to the local endpoint."""
    from ml_pipelines.registry.sqlite import SqliteModelRegistry

    registry = SqliteModelRegistry(home / "state.db")
    registry.create_group(GROUP)
    for number, auc in enumerate((0.81, 0.83, 0.85), start=1):
        train_model(home / "lake" / "models" / f"v{number}", seed=number)
        registry.register(
            GROUP, f"s3://lakeml-lake/models/v{number}", "lakeml:1", {"auc": auc}, {"git_sha": "abc"}
        )


def seed_pipeline(home: Path, threshold: float = 0.9, gate: Path | None = None) -> dict:
    """The runner tests' gated pipeline (Prep -> Gate -> Train, else a FailStep) and its input files;
    with `gate`, Prep waits until that file exists."""
    folder = home / "lake" / "data" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        (folder / f"part-{i}.csv").write_text("a,b\n1,2\n3,4\n")
    definition = gated(threshold)
    definition["Metadata"] = {"Name": PIPELINE}
    if gate is not None:
        prep = next(s for s in definition["Steps"] if s["Name"] == "Prep")
        app = prep["Arguments"]["AppSpecification"]
        app["ContainerEntrypoint"] = ["python3", "-m", "tests.studio.jobs.gate_process"]
        app["ContainerArguments"] = [*app["ContainerArguments"], "--gate", str(gate)]
    path = home.parent / f"{PIPELINE}.json"
    path.write_text(json.dumps(definition))
    return {"path": path, "definition": definition}


MANIFEST = {
    "table": "ORDERS",
    "run_id": "run-0001",
    "ingest_date": "2026-12-01",
    "window_low": None,
    "window_high": "2026-12-01T06:00:00",
    "mode": "incremental",
    "fetch_mode": "fetch",
    "from_run_id": None,
    "extracted": 7,
    "landed": 5,
    "quarantined": 2,
    "batches": [[7, 5, 2]],
    "min_cursor": "2026-11-30T00:00:00",
    "max_cursor": "2026-12-01T05:59:00",
    "schema_fingerprint": None,
    "schema": [{"name": "id", "type": "int64"}],
    "files": [],
    "quarantine_files": [],
    "drift": None,
    "supersedes": [],
    "new_watermark": {"cursor": "2026-12-01T05:59:00", "keys_at_cursor": ["7"], "run_id": "run-0001"},
    "committed_at": "2026-12-01T06:00:05+00:00",
}


def seed_lake(lake_dir: Path) -> None:
    """A few lake tables (bronze, gold), a quarantine with reasons and a published dbt build."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ingestion.manifest import Manifest, write_manifest
    from lakeml.core.lake.local import LocalLake
    from lakeml.core.lake.runs import DBT_LATEST, dbt_run_file, write_json

    for layer, table, rows in (("bronze", "orders", 5), ("gold", "churn_training_set", 3)):
        folder = lake_dir / layer / table / "ingest_date=2026-12-01"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"id": list(range(rows))}), folder / "part-0.parquet")
    quarantine = lake_dir / "quarantine" / "orders"
    quarantine.mkdir(parents=True)
    reasons = [["amount < 0"], ["amount < 0", "id is null"]]
    pq.write_table(pa.table({"id": [1, 2], "_reasons": reasons}), quarantine / "part-0.parquet")
    lake = LocalLake.create(lake_dir, ["lakeml-lake"])
    write_manifest(lake, Manifest.model_validate(MANIFEST))
    results = {"elapsed_time": 9.5, "results": [{"status": "success"}] * 3 + [{"status": "pass"}] * 2}
    run_results = write_json(lake, dbt_run_file("inv-1", "run_results.json"), results)
    latest = {
        "invocation_id": "inv-1",
        "run_results": run_results,
        "target": "local",
        "generated_at": "2026-12-01T10:00:00Z",
        "success": True,
    }
    write_json(lake, DBT_LATEST, latest)


@pytest.fixture
def registry_home(home: Path) -> Path:
    seed_registry(home)
    return home


@pytest.fixture
def pipeline_home(home: Path) -> Path:
    seed_pipeline(home)
    return home


@pytest.fixture
def client(home: Path):
    """The studio app in-process (Starlette's TestClient) over the test's LAKEML_HOME."""
    from starlette.testclient import TestClient

    from lakeml.core.settings import load_settings
    from lakeml.studio.app import create_app
    from lakeml.wiring import adapters

    settings = load_settings()
    app = create_app(settings, adapters(settings), endpoint_url=f"http://127.0.0.1:{free_port()}")
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"{process.args} exited: {out}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def running(
    args: list[str], home: Path, ready: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """`lakeml <args>` as its own process over `home` (answering at `ready`), until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lakeml.cli.main", *args],
        cwd=REPO,
        env={**os.environ, "LAKEML_HOME": str(home), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(ready, process)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def state(home: Path) -> dict:
    """The registry state and the deployment of `home`, without what differs between two homes (times,
    ARNs' ids, absolute paths): what approving must leave the same wherever it is done."""
    from ml_pipelines.registry.sqlite import SqliteModelRegistry
    from ml_pipelines.serving import endpoint

    registry = SqliteModelRegistry(home / "state.db")
    champion = registry.champion(GROUP)
    config = endpoint.read(endpoint.config_file(home / "endpoints"))
    return {
        "versions": [
            (v.version, v.status, v.status_by, v.status_reason, dict(v.metrics))
            for v in registry.list_versions(GROUP)
        ],
        "history": [
            [(e.from_status, e.to_status, e.by, e.reason) for e in registry.history(GROUP, v.version)]
            for v in registry.list_versions(GROUP)
        ],
        "champion": champion.version if champion else None,
        "variants": [
            (v.name, v.version, v.weight, str(Path(v.model).relative_to(home))) for v in config.variants
        ],
        "previous": [h["version"] for h in config.history],
    }
