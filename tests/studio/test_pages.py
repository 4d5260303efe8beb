"""Every studio page and form over HTTP (Starlette's TestClient), on a real LAKEML_HOME."""

from __future__ import annotations

import re
from pathlib import Path

from tests.studio.conftest import GROUP, PIPELINE, seed_lake, seed_pipeline, seed_registry


def run_pipeline(lakeml, home: Path, *params: str) -> dict:
    path = home.parent / f"{PIPELINE}.json"
    args = [x for p in params for x in ("--param", p)]
    return lakeml("--json", "pipeline", "run", "--definition", str(path), *args).json


def test_pipelines_list_execution_graph_and_steps(client, lakeml, pipeline_home: Path) -> None:
    done = run_pipeline(lakeml, pipeline_home)
    assert done["status"] == "Succeeded", done
    execution = done["execution_id"]

    page = client.get("/pipelines")
    assert page.status_code == 200
    assert f'data-execution="{execution}"' in page.text and "Succeeded" in page.text
    assert '<label for="pipeline">Pipeline</label>' in page.text and PIPELINE in page.text

    listed = client.get("/api/executions").json()["executions"]
    assert [(e["execution_id"], e["status"], e["pipeline"]) for e in listed] == [
        (execution, "Succeeded", PIPELINE)
    ]
    status = client.get(f"/api/executions/{execution}").json()
    assert status["terminal"] is True
    assert [(s["name"], s["status"]) for s in status["steps"]] == [
        ("Prep", "Succeeded"),
        ("Gate", "Succeeded"),
        ("Train", "Succeeded"),
        ("Stop", "NotExecuted"),  # the losing branch of the condition
    ]

    shown = client.get(f"/pipelines/executions/{execution}")
    assert shown.status_code == 200 and f'src="/pipelines/executions/{execution}/graph"' in shown.text
    graph = client.get(f"/pipelines/executions/{execution}/graph")
    assert graph.status_code == 200 and '"execution_id":"' + execution in graph.text  # the graph page's data

    step = client.get(f"/pipelines/executions/{execution}/steps/Prep")
    assert step.status_code == 200
    assert "Parameters (the step's arguments, resolved)" in step.text and "ProcessingInputs" in step.text
    assert "processed 3 files" in step.text  # the job output (its log)
    not_run = client.get(f"/pipelines/executions/{execution}/steps/Stop")
    assert not_run.status_code == 200 and "NotExecuted" in not_run.text


def test_a_fail_step_shows_its_message_and_the_reason(client, lakeml, pipeline_home: Path) -> None:
    failed = run_pipeline(lakeml, pipeline_home, "Threshold=0.95")
    assert failed["status"] == "Failed", failed
    execution = failed["execution_id"]
    shown = client.get(f"/pipelines/executions/{execution}")
    assert "FailStep Stop: AUC gate failed: score below 0.95" in shown.text
    step = client.get(f"/pipelines/executions/{execution}/steps/Stop")
    assert 'id="fail-message">FailStep message: AUC gate failed: score below 0.95' in step.text


def test_unknown_execution_or_step_is_a_400_saying_what_exists(client, lakeml, pipeline_home: Path) -> None:
    execution = run_pipeline(lakeml, pipeline_home)["execution_id"]
    missing = client.get("/pipelines/executions/nope")
    assert missing.status_code == 400 and "lakeml pipeline executions" in missing.text
    step = client.get(f"/pipelines/executions/{execution}/steps/Nope")
    assert step.status_code == 400 and "its steps: Prep, Gate, Train, Stop" in step.text
    assert client.get("/api/executions/nope").json()["error"].startswith("no execution 'nope'")


def test_registry_pages_show_versions_beside_the_champion(client, lakeml, registry_home: Path) -> None:
    assert lakeml("models", "approve", "1", "--by", "alice", "--reason", "first").code == 0
    groups = client.get("/models")
    assert groups.status_code == 200 and f'href="/models/{GROUP}"' in groups.text
    group = client.get(f"/models/{GROUP}")
    assert group.status_code == 200
    assert 'id="serving">lakeml-churn/1<' in group.text
    assert "0.8500 <small>(+0.0400)</small>" in group.text  # version 3's AUC beside the champion's
    version = client.get(f"/models/{GROUP}/1")
    assert version.status_code == 200
    assert re.search(r"<td>alice</td><td>PendingManualApproval → Approved</td><td>first</td>", version.text)
    assert '<label for="reason">' in version.text and '<label for="by">' in version.text
    assert 'id="lineage"' in version.text
    other = client.get(f"/models/{GROUP}/3")
    assert "<td>auc</td><td>0.8500</td><td>0.8100</td><td>+0.0400</td>" in other.text


def test_approve_in_the_studio_deploys_the_champion(client, registry_home: Path) -> None:
    response = client.post(
        f"/models/{GROUP}/2/decision", data={"decision": "approve", "reason": "beats 1", "by": "bob"}
    )
    assert response.status_code == 303
    follow = client.get(response.headers["location"])
    assert (
        "PendingManualApproval -&gt; Approved by bob; deployed lakeml-churn/2 to lakeml-churn" in follow.text
    )
    endpoint = client.get("/endpoint")
    assert 'id="endpoint-serving">lakeml-churn/2<' in endpoint.text
    assert "<td>AllTraffic</td><td>lakeml-churn/2</td><td>1.0</td><td>100%</td>" in endpoint.text
    assert 'id="stats-missing"' in endpoint.text and "lakeml serve" in endpoint.text  # no endpoint running


def test_reject_needs_a_reason_and_rollback_serves_the_previous(client, lakeml, registry_home: Path) -> None:
    refused = client.post(f"/models/{GROUP}/2/decision", data={"decision": "reject", "reason": "", "by": "x"})
    assert refused.status_code == 400 and "who decides and why" in refused.text
    assert client.get(f"/models/{GROUP}/2").text.count("no decisions yet") == 1
    foreign = client.post(
        f"/models/{GROUP}/2/decision",
        data={"decision": "reject", "reason": "r", "by": "x"},
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status_code == 403
    for number in (1, 3):
        lakeml("models", "approve", str(number), "--by", "alice", "--reason", "ok")
    rolled = client.post(f"/models/{GROUP}/rollback")
    assert rolled.status_code == 303
    assert "rolled back from lakeml-churn/3 to lakeml-churn/1" in client.get(rolled.headers["location"]).text


def test_data_page_counts_rows_per_layer_and_quarantine_reasons(client, home: Path) -> None:
    from lakeml.core.settings import load_settings

    seed_lake(load_settings().lake_dir)
    page = client.get("/data")
    assert page.status_code == 200
    assert "<td>orders</td><td>5</td>" in page.text and "<td>churn_training_set</td><td>3</td>" in page.text
    assert "amount &lt; 0 — 2 row(s)" in page.text and "id is null — 1 row(s)" in page.text
    assert "Invocation inv-1 on target local" in page.text and "2 pass, 3 success" in page.text
    assert "lakeml docs --generate-only" in page.text  # no docs generated here
    assert "<td>orders</td><td>run-0001</td><td>2026-12-01 06:00:05</td><td>incremental</td>" in page.text
    assert "<td>7</td><td>5</td><td>2</td>" in page.text  # extracted, landed, quarantined


def test_assets_ship_in_the_package_and_pages_use_no_cdn(client, registry_home: Path) -> None:
    for asset in ("/static/studio.css", "/static/studio.js"):
        assert client.get(asset).status_code == 200
    for page in ("/pipelines", "/models", f"/models/{GROUP}", f"/models/{GROUP}/1", "/endpoint", "/data"):
        text = client.get(page).text
        assert not re.search(r"""(src|href)="(https?:)?//""", text), page  # nothing from another host


def test_starting_a_pipeline_from_the_studio_runs_it(client, home: Path) -> None:
    from lakeml.core.settings import load_settings
    from lakeml.wiring import adapters

    seeded = seed_pipeline(home)
    adapters(load_settings()).pipelines.upsert(PIPELINE, seeded["definition"])
    response = client.post("/pipelines/start", data={"pipeline": PIPELINE})
    assert response.status_code == 303
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = client.get("/api/executions").json()["executions"]
        if listed and listed[0]["status"] != "Executing":
            break
        time.sleep(0.05)
    assert listed and listed[0]["status"] == "Succeeded", listed


def test_approving_in_the_studio_and_with_the_cli_leave_the_same_state(
    client, lakeml, home: Path, tmp_path: Path
) -> None:
    """Two homes, the same steps: approve 1 then 3, reject 3 — once through the studio's form, once with
    `lakeml models`; the registries and the deployments must match."""
    from tests.studio.conftest import state

    steps = (("approve", 1, "first"), ("approve", 3, "better"), ("reject", 3, "drifted"))
    seed_registry(home)
    for decision, number, reason in steps:
        response = client.post(
            f"/models/{GROUP}/{number}/decision", data={"decision": decision, "reason": reason, "by": "alice"}
        )
        assert response.status_code == 303, response.text
    cli_home = tmp_path / "cli-home"
    seed_registry(cli_home)
    for decision, number, reason in steps:
        result = lakeml(
            "models",
            decision,
            str(number),
            "--by",
            "alice",
            "--reason",
            reason,
            env={"LAKEML_HOME": str(cli_home)},
        )
        assert result.code == 0, result
    studio_state, cli_state = state(home), state(cli_home)
    assert studio_state == cli_state
    assert studio_state["champion"] == 1 and studio_state["variants"][0][1] == f"{GROUP}/1"


def test_dbt_docs_are_linked_and_served_once_generated(client, home: Path) -> None:
    assert client.get("/dbt-docs/index.html").status_code == 404  # not generated yet
    target = home / "dbt" / "target"  # the local transform target's results_dir
    target.mkdir(parents=True)
    (target / "index.html").write_text("<html>dbt docs</html>")
    (target / "catalog.json").write_text("{}")
    (target / "run_results.json").write_text("{}")
    assert 'href="/dbt-docs/index.html"' in client.get("/data").text
    assert client.get("/dbt-docs/index.html").text == "<html>dbt docs</html>"
    assert client.get("/dbt-docs/catalog.json").json() == {}
    assert client.get("/dbt-docs/run_results.json").status_code == 404  # only the docs site's files


def test_a_remote_execution_is_opened_by_arn_and_described_through_the_port(home: Path) -> None:
    """SageMaker's runner has no "list executions" on the port: the page asks for an ARN and `describe`s it
    (a stub runner stands in for SageMaker, whose ListPipelineExecutionSteps moto lacks)."""
    from types import SimpleNamespace

    from starlette.testclient import TestClient

    from lakeml.core.settings import load_settings
    from lakeml.studio.app import create_app
    from ml_pipelines.runner.port import ExecutionStatus, StepStatus

    arn = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/lakeml-churn-training/execution/abc123"

    class SageMakerLike:
        remote = True

        def describe(self, execution: str) -> ExecutionStatus:
            assert execution == arn
            steps = [StepStatus(name="Prepare", type="Processing", status="Executing")]
            return ExecutionStatus(
                execution_id=arn, pipeline="lakeml-churn-training", status="Executing", steps=steps
            )

    app = create_app(load_settings(), SimpleNamespace(pipelines=SageMakerLike()), endpoint_url="http://x")  # type: ignore[arg-type]
    with TestClient(app) as client:
        page = client.get("/pipelines", params={"execution": arn})
        assert page.status_code == 200, page.text
        assert 'data-step="Prepare"' in page.text and "Executing" in page.text
        assert client.get("/api/executions/" + arn).json()["steps"][0]["name"] == "Prepare"


def test_the_command_prints_where_it_listens_and_refuses_a_busy_port(lakeml, home: Path) -> None:
    import json
    import socket

    from tests.studio.conftest import running

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused = lakeml("--json", "studio", "--port", str(port))
        assert refused.code == 2, refused
        assert f"port {port} on 127.0.0.1 is in use" in refused.json["error"]
    from tests.ml_pipelines.serving.conftest import free_port

    port = free_port()
    with running(
        ["--json", "studio", "--port", str(port)], home, f"http://127.0.0.1:{port}/models"
    ) as process:
        pass
    output = process.stdout.read().decode() if process.stdout else ""
    first, _ = json.JSONDecoder().raw_decode(output.lstrip())  # the document comes before any log line
    assert first == {"url": f"http://127.0.0.1:{port}", "endpoint_url": "http://127.0.0.1:8080"}
