"""The IngestFeatures job through its real command line (`python -m lakeml.jobs.ingest_features`) on gold in
dbt-spark's layout: it writes only the snapshots the feature store has not ingested; a backfill is
explicit (`--backfill all` or a date)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ml_pipelines.data import read_frame
from tests.ml_pipelines import synthetic
from tests.ml_pipelines.stepchain import run_step


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic.write_gold(tmp_path_factory.mktemp("gold")) / "customer_features"


def partitions(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("snapshot_date="))


class Job:
    """IngestFeatures runs against one LAKEML_HOME (its local feature store)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = 0

    def __call__(self, gold: Path, *args: str) -> dict[str, Any]:
        self.runs += 1
        opt_ml = self.root / f"run-{self.runs}"
        run_step(
            "ingest_features",
            opt_ml,
            "--input",
            str(gold),
            "--feature-group",
            "customers-test",
            *args,
            env={"LAKEML_HOME": str(self.root / "home")},
        )
        return dict(json.loads((opt_ml / "processing" / "report" / "ingest.json").read_text()))


def test_a_new_snapshot_is_the_only_one_written_and_a_rerun_writes_nothing(
    tmp_path: Path, gold: Path
) -> None:
    job = Job(tmp_path)
    yesterday = tmp_path / "yesterday"
    shutil.copytree(gold, yesterday)
    newest = partitions(yesterday)[-1]
    shutil.rmtree(newest)  # gold as it was before the newest snapshot was built
    total = len(read_frame(gold, "customer_features"))
    in_newest = len(read_frame(gold / newest.name, "snapshot"))

    first = job(yesterday)
    assert first["records_written"] == first["rows"] == total - in_newest
    assert first["records_skipped"] == 0

    today = job(gold)
    assert today["records_written"] == in_newest
    assert today["records_skipped"] == total - in_newest
    assert today["event_times_written"] == [f"{newest.name.split('=')[1]}T00:00:00Z"]

    again = job(gold)
    assert (again["records_written"], again["records_skipped"], again["event_times_written"]) == (
        0,
        total,
        [],
    )


def test_backfill_rewrites_all_or_the_snapshots_from_a_date(tmp_path: Path, gold: Path) -> None:
    job = Job(tmp_path)
    total = len(read_frame(gold, "customer_features"))
    job(gold)
    everything = job(gold, "--backfill", "all")
    assert (everything["records_written"], everything["backfill"]) == (total, True)
    last_two = partitions(gold)[-2:]
    since = last_two[0].name.split("=")[1]
    recent = job(gold, "--backfill", since)
    assert recent["records_written"] == sum(len(read_frame(p, "snapshot")) for p in last_two)
    assert recent["records_skipped"] == total - recent["records_written"]


def test_a_backfill_that_is_not_all_none_or_a_date_is_refused(tmp_path: Path, gold: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.ml_pipelines.stepchain import REPO

    proc = subprocess.run(
        [sys.executable, "-m", "lakeml.jobs.ingest_features", "--input", str(gold), "--backfill", "yes"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={**os.environ, "LAKEML_CONTAINER__OPT_ML": str(tmp_path), "LAKEML_HOME": str(tmp_path / "h")},
    )
    assert proc.returncode == 1, proc.stderr  # a job fails with 1 and its reason in /opt/ml/output/failure
    assert "use 'none', 'all' or a date YYYY-MM-DD" in (tmp_path / "output" / "failure").read_text()
