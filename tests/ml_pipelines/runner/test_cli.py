"""`lakeml pipeline run --local|executions|logs|graph` through the real command line."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import missing_tool
from tests.ml_pipelines.runner.test_engine import gated

pytestmark = pytest.mark.xdist_group("runner")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def definition_file(tmp_path, lake_input):
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(gated(0.9)))
    return path


def test_run_local_prints_the_execution_document(lakeml, definition_file):
    result = lakeml("--json", "pipeline", "run", "--local", "--definition", str(definition_file))
    assert result.code == 0, result
    doc = result.json
    assert doc["status"] == "Succeeded"
    assert [(s["name"], s["type"], s["status"]) for s in doc["steps"]] == [
        ("Prep", "Processing", "Succeeded"),
        ("Gate", "Condition", "Succeeded"),
        ("Train", "Training", "Succeeded"),
    ]
    assert all(isinstance(s["seconds"], float) for s in doc["steps"])
    assert doc["registered"] is None and doc["failure_reason"] is None


def test_failed_execution_exits_1_with_the_reason(lakeml, definition_file):
    result = lakeml(
        "--json",
        "pipeline",
        "run",
        "--local",
        "--definition",
        str(definition_file),
        "--param",
        "Threshold=0.95",
    )
    assert result.code == 1, result
    assert result.json["status"] == "Failed"
    assert result.json["failure_reason"] == "AUC gate failed: score below 0.95"


def test_bad_param_exits_2_naming_it(lakeml, definition_file):
    result = lakeml("pipeline", "run", "--definition", str(definition_file), "--param", "Threshold=high")
    assert result.code == 2, result
    assert "Threshold is Float" in result.stderr
    result = lakeml("pipeline", "run", "--definition", str(definition_file), "--param", "Threshold")
    assert result.code == 2 and "is not K=V" in result.stderr


def test_executions_logs_and_graph(lakeml, definition_file):
    run = lakeml("--json", "pipeline", "run", "--definition", str(definition_file)).json
    listed = lakeml("--json", "pipeline", "executions").json["executions"]
    assert listed[0]["execution_id"] == run["execution_id"]
    logs = lakeml("--json", "pipeline", "logs", run["execution_id"], "Train").json
    assert "validation-objective=" in logs["text"]
    missing = lakeml("pipeline", "logs", run["execution_id"], "Nope")
    assert missing.code == 2 and "its steps: Prep, Gate, Train" in missing.stderr
    graph = lakeml("--json", "pipeline", "graph").json
    page = Path(graph["path"]).read_text()
    assert (
        run["execution_id"] in page
        and "<script" in page
        and "http" not in page.split("<body>")[1].replace("http://www.w3.org", "")
    )


def test_graph_page_renders_nodes_and_statuses_in_headless_chromium(lakeml, definition_file, tmp_path):
    if CHROMIUM is None:
        missing_tool("chromium", "Chromium is not installed (.ci/run installs Debian's chromium)")
    run = lakeml(
        "--json", "pipeline", "run", "--definition", str(definition_file), "--param", "Threshold=0.95"
    ).json
    page = lakeml("--json", "pipeline", "graph", "--execution", run["execution_id"]).json["path"]
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chrome'}",
            "--dump-dom",
            f"file://{page}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert 'data-rendered="true"' in dom
    assert 'data-step="Prep" data-status="Succeeded"' in dom
    assert 'data-step="Stop" data-status="Failed"' in dom
    assert 'data-step="Train" data-status="NotExecuted"' in dom
    assert "AUC gate failed: score below 0.95" in dom
