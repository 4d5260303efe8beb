"""What a dbt invocation did: each finished node, and the build as `lakeml transform --json` shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NodeResult:
    """One finished dbt node: a model, a data test, a unit test, …"""

    name: str
    unique_id: str
    resource_type: str  # model | test | unit_test | seed | snapshot | operation
    status: str  # success | error | skipped | pass | fail | warn
    seconds: float = 0.0
    message: str = ""
    failures: int | None = None

    @property
    def is_test(self) -> bool:
        return self.resource_type in ("test", "unit_test")

    @property
    def ok(self) -> bool:
        return self.status in ("success", "pass", "warn")


@dataclass
class BuildReport:
    """What a `dbt build` did, in the shape of `lakeml transform --json`."""

    target: str
    nodes: list[NodeResult] = field(default_factory=list)
    seconds: float = 0.0
    success: bool = True
    invocation_id: str | None = None  # dbt's, once the run results are published to the lake
    run_results: str | None = None  # their URI: runs/dbt/<invocation_id>/run_results.json
    unit_tests_skipped: bool = False  # left out: unchanged code passed them before (transform.unit_tests)

    @property
    def models(self) -> int:
        return sum(1 for n in self.nodes if n.resource_type == "model")

    @property
    def tests(self) -> int:
        return sum(1 for n in self.nodes if n.is_test)

    @property
    def passed(self) -> int:
        return sum(1 for n in self.nodes if n.is_test and n.status in ("pass", "warn", "success"))

    @property
    def failed(self) -> list[str]:
        return [n.name for n in self.nodes if n.status in ("error", "fail")]

    @property
    def warned(self) -> list[str]:
        return [n.name for n in self.nodes if n.status == "warn"]

    @property
    def skipped(self) -> list[str]:
        return [n.name for n in self.nodes if n.status == "skipped"]

    def to_json(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "tests": self.tests,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "warned": self.warned,
            "seconds": round(self.seconds, 2),
            "target": self.target,
            "invocation_id": self.invocation_id,
            "run_results": self.run_results,
            "unit_tests_skipped": self.unit_tests_skipped,
            "summary": self.summary,
        }

    @property
    def summary(self) -> str:
        text = f"{self.models} models, {self.tests} tests ({self.passed} passed)"
        if self.failed:
            text += f"; failed: {', '.join(self.failed)}"
        if self.warned:
            text += f"; warnings: {', '.join(self.warned)}"
        if self.skipped:
            text += f"; skipped {len(self.skipped)}"
        if self.unit_tests_skipped:
            text += "; unit tests not run (code unchanged since they passed)"
        return text


def node_result(result: Any) -> NodeResult:
    """A `NodeResult` from one of dbt's run results."""
    node = result.node
    failures = getattr(result, "failures", None)
    return NodeResult(
        name=str(node.name),
        unique_id=str(node.unique_id),
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        status=str(getattr(result.status, "value", result.status)),
        seconds=float(result.execution_time or 0.0),
        message=str(result.message or ""),
        failures=int(failures) if failures is not None else None,
    )
