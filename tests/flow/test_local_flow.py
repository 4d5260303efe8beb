"""Local `lakeml run` executes the declaration's stages — the same ones the state machine runs, plus the
local-only ones — and sends the same notifications. Stage functions are replaced by recorders (the real
ones run Spark and the pipelines: tests/e2e); the quality and score stages' own logic is tested with fakes
of the monitor, the registry and scoring."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings
from lakeml.flow import asl, stages
from lakeml.flow.local import LocalOrchestrator
from lakeml.flow.port import FlowRequest
from lakeml.flow.stages import STAGES, Stage, StageContext
from lakeml.notify.local import LocalNotifier
from tests.flow.test_definition import COMMITTED


def _recording(ran: list[str]) -> tuple[Stage, ...]:
    def run_as(stage: Stage) -> Any:
        def run(ctx: StageContext) -> dict[str, Any]:
            ran.append(stage.name)
            document: dict[str, Any] = {"summary": f"{stage.name} ok", "execution_id": ctx.execution_id}
            if stage.name == "train":
                document["warning"] = {
                    "subject": stages.NO_MODEL_SUBJECT,
                    "message": "Model not registered: x",
                }
            return document

        return run

    return tuple(replace(s, run=run_as(s)) for s in STAGES)


def test_lakeml_run_executes_the_declared_stages_the_state_machine_runs(
    lakeml, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(stages, "STAGES", _recording(ran))

    result = lakeml("--json", "run", subprocess=False)

    assert result.code == 0, result
    assert list(result.json["stages"]) == ran == [s.name for s in STAGES]
    on_aws = asl.stage_states(json.loads(COMMITTED.read_text()))
    assert [name for name in ran if not next(s for s in STAGES if s.name == name).local_only] == on_aws
    notes = lakeml("--json", "notifications").json["notifications"]
    assert [(n["severity"], n["subject"]) for n in notes[:2]] == [
        ("info", "daily flow succeeded"),
        ("warning", "daily flow: no model registered"),
    ]
    assert notes[1]["source"] == "flow:train"


def _context(tmp_path: Path, **ports: Any) -> StageContext:
    return StageContext(
        settings=Settings(home=tmp_path),
        ports=SimpleNamespace(**ports),
        execution_id="20261203T000000Z-abc123",
        results={"ingest": {"runs": [{"table": "CUSTOMERS"}]}},
    )


def test_the_quality_stage_checks_this_execution_with_the_ingest_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lakeml.monitor

    calls: list[tuple[str, Any]] = []

    class Report:
        def document(self) -> dict[str, Any]:
            return {"summary": "quality ok", "passed": True}

    def check(settings: Settings, ports: Any, execution_id: str, *, ingest: Any = None) -> Report:
        calls.append((execution_id, ingest))
        return Report()

    monkeypatch.setattr(lakeml.monitor, "check", check)
    document = stages.quality_stage(_context(tmp_path, lake=object()))

    assert document["summary"] == "quality ok"
    assert calls == [("20261203T000000Z-abc123", {"runs": [{"table": "CUSTOMERS"}]})]


def test_a_tripped_quality_threshold_stops_the_local_flow_before_training(tmp_path: Path) -> None:
    ran: list[str] = []

    def tripped(ctx: StageContext) -> dict[str, Any]:
        raise LakemlError("data quality below thresholds: quarantine rate 7% > 5%")

    flow = tuple(
        replace(s, run=tripped) if s.name == "quality" else s for s in _recording(ran) if not s.local_only
    )
    notifier = LocalNotifier(tmp_path / "state.db")
    orchestrator = LocalOrchestrator(Settings(home=tmp_path), SimpleNamespace(notifier=notifier), flow)
    result = orchestrator.run(FlowRequest())

    assert (result.status, result.failed_stage) == ("Failed", "quality")
    assert ran == ["ingest", "transform"]
    (critical,) = notifier.recent(5)
    assert (critical.severity, critical.source) == ("critical", "flow:quality")


def test_scoring_is_skipped_with_a_warning_while_no_version_is_approved(tmp_path: Path) -> None:
    registry = SimpleNamespace(champion=lambda group: None)
    document = stages.score_stage(_context(tmp_path, registry=registry))

    assert document["skipped"] is True
    assert document["warning"]["subject"] == stages.NO_CHAMPION_SUBJECT
    assert "lakeml models approve" in document["summary"]


def test_scoring_uses_the_champion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ml_pipelines.scoring

    outcome = SimpleNamespace(rows=42, document=lambda: {"status": "Succeeded", "rows": 42})
    monkeypatch.setattr(ml_pipelines.scoring, "score", lambda settings, pipelines, lake: outcome)
    registry = SimpleNamespace(champion=lambda group: SimpleNamespace(version=3))
    document = stages.score_stage(_context(tmp_path, registry=registry, pipelines=None, lake=None))

    assert (document["champion"], document["rows"]) == (3, 42)
    assert document["summary"] == "scored 42 customers with version 3"
    assert "warning" not in document
