"""lakeml's own definitions — the JSON that goes to SageMaker — run end to end with the local runner on
gold tables in dbt's layout: train + register + deploy to staging; a rerun that does not beat the
Approved champion stops at the FailStep saying why; batch scoring writes `customer_id,score`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ml_pipelines import synthetic

pytestmark = pytest.mark.xdist_group("ml_local_run")
FAST = ("--param", "MaxTuningJobs=2", "--param", "MaxParallelTuningJobs=1")
CUSTOMERS = 300


@pytest.fixture
def gold(home: Path) -> Path:
    return synthetic.write_gold(home / "lake" / "gold", customers=CUSTOMERS, snapshots=32)


def test_training_then_gate_failure_then_batch_scoring(lakeml: Any, gold: Path, home: Path) -> None:
    from lakeml.core.lake.local import LocalLake
    from lakeml.transform.runs import publish_run_results

    # the dbt build gold came from, as transform publishes it; nobody passes DbtInvocationId (as on AWS)
    dbt_target = home / "dbt-target"
    dbt_target.mkdir()
    (dbt_target / "run_results.json").write_text('{"metadata": {"invocation_id": "inv-gold"}, "results": []}')
    publish_run_results(
        LocalLake.create(home / "lake"), dbt_target, target="local", success=True, bronze_runs={}
    )

    first = lakeml("--json", "pipeline", "run", "--local", *FAST)
    assert first.code == 0, first
    steps = {s["name"]: s["status"] for s in first.json["steps"]}
    assert steps == {
        name: "Succeeded"
        for name in (
            "IngestFeatures",
            "Prepare",
            "Tune",
            "Evaluate",
            "CheckGates",
            "Register",
            "DeployStaging",
        )
    }
    registered = first.json["registered"]
    assert (registered["group"], registered["version"], registered["status"]) == (
        "lakeml-churn",
        1,
        "PendingManualApproval",
    )

    from lakeml.core.settings import load_settings
    from lakeml.wiring import adapters

    registry = adapters(load_settings(home=home)).registry
    version = registry.get("lakeml-churn", 1)
    assert set(version.metadata) >= {"data_snapshot", "git_sha", "dbt_invocation_id", "pipeline_execution_id"}
    assert (
        version.metadata["dbt_invocation_id"] == "inv-gold"
    )  # resolved by IngestFeatures, copied by Register
    registry.approve("lakeml-churn", 1, by="test", reason="baseline")

    second = lakeml("--json", "pipeline", "run", "--local", *FAST)  # same data: cannot beat the champion
    assert second.code == 1
    assert second.json["status"] == "Failed" and second.json["registered"] is None
    assert "gate beats_champion failed" in second.json["failure_reason"]
    assert "min improvement 0.0050" in second.json["failure_reason"]

    batch = lakeml("--json", "pipeline", "run", "--local", "--batch")
    assert batch.code == 0, batch
    scores = [
        line.split(",")
        for f in (home / "lake" / "predictions" / "churn_scores").rglob("*.out")
        for line in f.read_text().splitlines()
    ]
    assert len(scores) == CUSTOMERS
    assert all(len(row) == 2 and 0.0 <= float(row[1]) <= 1.0 for row in scores)
