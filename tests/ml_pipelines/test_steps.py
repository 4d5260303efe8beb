"""The step modules end to end through their real command lines, `/opt/ml` mapped under tmp.

prepare -> train -> evaluate run as `python -m lakeml.jobs.<name>` subprocesses with SageMaker's
environment (SM_CHANNEL_*, SM_MODEL_DIR, hyperparameters.json) rooted at LAKEML_CONTAINER__OPT_ML, on synthetic
gold tables with a planted signal; a second chain trains on shuffled labels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ml_pipelines import gates
from ml_pipelines.data import read_frame
from ml_pipelines.features import training_spec
from tests.ml_pipelines.stepchain import REPO, run_step

pytestmark = pytest.mark.xdist_group("ml_steps")


def test_prepare_splits_by_time_with_test_latest_and_no_overlap(good: dict[str, Any]) -> None:
    splits = {name: read_frame(good["prep"] / name, name) for name in ("train", "validation", "test")}
    keys = {name: set(zip(f["customer_id"], f["snapshot_date"], strict=True)) for name, f in splits.items()}
    assert not keys["train"] & keys["validation"] and not keys["train"] & keys["test"]
    assert not keys["validation"] & keys["test"]
    assert splits["train"]["snapshot_date"].max() < splits["validation"]["snapshot_date"].min()
    assert splits["validation"]["snapshot_date"].max() < splits["test"]["snapshot_date"].min()


def test_prepare_label_windows_of_train_end_before_test_starts(good: dict[str, Any]) -> None:
    test_start = read_frame(good["prep"] / "test", "test")["snapshot_date"].min()
    for name in ("train", "validation"):
        latest = read_frame(good["prep"] / name, name)["snapshot_date"].max()
        assert latest + pd.Timedelta(days=90) <= test_start, name
    assert good["split"]["embargoed"]["rows"] > 0


def test_prepare_reports_class_balance_per_split(good: dict[str, Any]) -> None:
    for name in ("train", "validation", "test"):
        info = good["split"]["splits"][name]
        assert info["rows"] == info["positives"] + info["negatives"] > 0
        assert 0 < info["positive_rate"] < 1
        assert info["positive_rate"] == pytest.approx(info["positives"] / info["rows"], abs=1e-6)


def test_train_prints_metric_lines_the_tuning_regexes_parse(good: dict[str, Any]) -> None:
    import re

    from ml_pipelines.steps.train import METRIC_DEFINITIONS

    pattern = re.compile(next(m["Regex"] for m in METRIC_DEFINITIONS if m["Name"] == "validation:auc"))
    values = [float(m.group(1)) for line in good["train_stdout"].splitlines() if (m := pattern.search(line))]
    assert len(values) >= 2
    metadata = json.loads((good["model_dir"] / "metadata.json").read_text())
    assert values[-1] == pytest.approx(metadata["validation_auc"], abs=1e-6)  # the last line is the best


def test_train_writes_model_feature_list_and_lineage(good: dict[str, Any]) -> None:
    files = {p.name for p in good["model_dir"].iterdir()}
    assert {"xgboost-model.json", "features.json", "metadata.json"} <= files
    features = json.loads((good["model_dir"] / "features.json").read_text())
    expected = training_spec()
    assert (
        features["features"] == list(expected.features) and features["label_column"] == expected.label_column
    )
    metadata = json.loads((good["model_dir"] / "metadata.json").read_text())
    assert metadata["training_rows"] == good["split"]["splits"]["train"]["rows"]
    assert metadata["data_snapshot"] == good["split"]["data_snapshot"]
    assert metadata["git_sha"] == "0123abc" and metadata["hyperparameters"]["max_depth"] == 4


def test_evaluate_reports_metrics_calibration_and_passing_gates(good: dict[str, Any]) -> None:
    evaluation = good["evaluation"]
    metrics = evaluation["metrics"]
    assert metrics["auc"]["value"] >= 0.8
    assert 0 < metrics["pr_auc"]["value"] <= 1 and metrics["log_loss"]["value"] > 0
    assert sum(row["count"] for row in metrics["calibration"]) == metrics["rows"]
    assert evaluation["champion"]["auc"] is None  # no champion given
    assert evaluation["gates"]["passed"] is True and evaluation["gates"]["failed"] == []
    assert evaluation["lineage"]["data_snapshot"] == good["split"]["data_snapshot"]


def test_shuffled_labels_fail_the_floor_gate_and_say_by_how_much(shuffled: dict[str, Any]) -> None:
    evaluation = shuffled["evaluation"]
    auc = evaluation["metrics"]["auc"]["value"]
    assert auc < gates.AUC_FLOOR
    assert "auc_floor" in evaluation["gates"]["failed"]
    # The champion is scored on the same (here label-shuffled) test set, so its AUC is reported beside.
    assert evaluation["champion"]["auc"]["value"] is not None
    summary = evaluation["gates"]["summary"]
    assert f"gate auc_floor failed: test AUC {auc:.4f} < floor {gates.AUC_FLOOR:.4f}" in summary
    assert f"short by {gates.AUC_FLOOR - auc:.4f}" in summary


def test_evaluate_finds_the_approved_champion_in_the_registry(tmp_path: Path, good: dict[str, Any]) -> None:
    from lakeml.core.settings import load_settings
    from lakeml.wiring import adapters

    home = tmp_path / "home"
    registry = adapters(load_settings(home=home)).registry
    registry.create_group("churn-test")
    version = registry.register("churn-test", str(good["archive"]), "lakeml:test", {"auc": 0.9}, {})
    registry.approve("churn-test", version.version, by="tester", reason="baseline")
    evaluation_ml = tmp_path / "opt-ml"
    run_step(
        "evaluate",
        evaluation_ml,
        "--model",
        str(good["archive"]),
        "--test",
        str(good["prep"] / "test"),
        "--model-package-group",
        "churn-test",
        env={"LAKEML_HOME": str(home)},
    )
    evaluation = json.loads((evaluation_ml / "processing" / "evaluation" / "evaluation.json").read_text())
    assert evaluation["champion"]["version"] == version.version
    assert evaluation["champion"]["auc"]["value"] == evaluation["metrics"]["auc"]["value"]
    assert evaluation["gates"]["failed"] == ["beats_champion"]  # equal is not better by the margin


def test_a_failing_step_writes_sagemakers_failure_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lakeml.jobs.prepare", "--input", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "LAKEML_CONTAINER__OPT_ML": str(tmp_path)},
    )
    assert proc.returncode == 1
    failure = (tmp_path / "output" / "failure").read_text()
    assert "missing" in failure and "does not exist" in failure


def test_ingest_features_puts_every_row_into_the_feature_group(tmp_path: Path, good: dict[str, Any]) -> None:
    from lakeml.core.settings import load_settings
    from lakeml.wiring import adapters

    home = tmp_path / "home"
    gold = good["root"] / "gold" / "customer_features"
    run_step(
        "ingest_features",
        tmp_path / "opt-ml",
        "--input",
        str(gold),
        "--feature-group",
        "customers-test",
        env={"LAKEML_HOME": str(home)},
    )
    report = json.loads((tmp_path / "opt-ml" / "processing" / "report" / "ingest.json").read_text())
    frame = read_frame(gold, "customer_features")
    assert report["rows"] == report["records_written"] == len(frame)
    assert report["record_identifier"] == "customer_id" and report["event_time"] == "snapshot_date"
    assert report["lineage"] == {"dbt_invocation_id": "unknown"}  # no dbt build published in this lake
    record = adapters(load_settings(home=home)).feature_store.get_record("customers-test", 1)
    assert record is not None
    latest = frame[frame["customer_id"] == 1].sort_values("snapshot_date").iloc[-1]
    assert record["tenure_days"] == latest["tenure_days"]  # online store keeps the latest snapshot


def test_batch_inputs_writes_latest_snapshot_csv_and_the_champion(
    tmp_path: Path, good: dict[str, Any]
) -> None:
    gold = good["root"] / "gold" / "customer_features"
    run_step("batch_inputs", tmp_path, "--input", str(gold), "--champion-model", str(good["archive"]))
    champion = json.loads((tmp_path / "processing" / "champion" / "champion.json").read_text())
    frame = read_frame(gold, "customer_features")
    latest = frame[pd.to_datetime(frame["snapshot_date"]) == pd.to_datetime(frame["snapshot_date"]).max()]
    assert champion["model_data_url"] == str(good["archive"]) and champion["rows"] == len(latest)
    lines = (tmp_path / "processing" / "features" / "features.csv").read_text().splitlines()
    assert len(lines) == len(latest)
    assert len(lines[0].split(",")) == 1 + len(training_spec().features)  # customer_id, then the features
    for line in lines[:50]:  # the serving container parses numbers only (booleans as 0/1, nulls empty)
        [float(value) for value in line.split(",") if value != ""]


def test_batch_inputs_without_an_approved_champion_says_how_to_get_one(
    tmp_path: Path, good: dict[str, Any]
) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lakeml.jobs.batch_inputs",
            "--input",
            str(good["root"] / "gold"),
            "--model-package-group",
            "nothing-here",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "LAKEML_CONTAINER__OPT_ML": str(tmp_path), "LAKEML_HOME": str(tmp_path / "home")},
    )
    assert proc.returncode != 0
    assert "nothing-here" in (tmp_path / "output" / "failure").read_text()


def test_git_sha_is_the_baked_one_else_asked_of_git_else_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    from ml_pipelines.steps.container import Container

    assert Container(baked_git_sha="0123abc").git_sha() == "0123abc"
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    assert Container().git_sha() == head
    monkeypatch.setenv("PATH", "/nonexistent")
    assert Container().git_sha() == "unknown"
