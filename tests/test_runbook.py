"""docs/runbook.md has one entry per alarm Terraform creates, and no entry for an alarm it does not.

The alarms are read from the code that creates them: the catalog (infra/modules/monitoring/metrics.json,
rendered from lakeml/core/metrics.py) and the `aws_cloudwatch_metric_alarm` resources of
infra/modules/monitoring/*.tf, whose `alarm_name` expressions are expanded over their `for_each`
(`var.function_names` over the keys the stack module passes). `${var.name_prefix}` stays `<prefix>`, as
in the runbook. A `for_each` or name expression this file does not know fails the test, naming it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import REPO

MONITORING = REPO / "infra" / "modules" / "monitoring"
STACK = REPO / "infra" / "modules" / "stack" / "main.tf"
RUNBOOK = REPO / "docs" / "runbook.md"
PREFIX = "<prefix>"


def _catalog() -> dict[str, str]:
    """Catalog alarm name -> severity (main.tf's `catalog_alarms`: the alarm's name, else
    `<prefix>-<component>-<metric>`)."""
    metrics = json.loads((MONITORING / "metrics.json").read_text(encoding="utf-8"))["metrics"]
    return {
        m["alarm"].get("name") or f"{PREFIX}-{m['component']}-{m['name']}": m["alarm"]["severity"]
        for m in metrics
        if m.get("alarm")
    }


def _block(text: str, start: int) -> str:
    """The `{ … }` block opening at or after `start`."""
    opening = text.index("{", start)
    depth = 0
    for i in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[opening : i + 1]
    raise AssertionError("unbalanced braces")


def _stack_function_names() -> list[str]:
    text = STACK.read_text(encoding="utf-8")
    block = _block(text, text.index("function_names = {"))
    return re.findall(r"^\s*([\w-]+)\s*=", block[1:-1], flags=re.M)


def _for_each_keys(for_each: str | None) -> list[str]:
    catalog = _catalog()
    if for_each == "local.catalog_alarms":
        return list(catalog)
    if for_each is not None and re.fullmatch(
        r'\{\s*for key, a in local\.catalog_alarms : key => a if a\.severity == "warning"\s*\}', for_each
    ):
        return [name for name, severity in catalog.items() if severity == "warning"]
    if for_each == "var.function_names":
        return _stack_function_names()
    raise AssertionError(f"tests/test_runbook.py does not know the for_each {for_each!r}: teach it")


def terraform_alarms() -> set[str]:
    names: set[str] = set()
    resources = 0
    for tf in sorted(MONITORING.glob("*.tf")):
        text = tf.read_text(encoding="utf-8")
        for match in re.finditer(r'^resource "aws_cloudwatch_metric_alarm" "(\w+)"', text, flags=re.M):
            resources += 1
            body = _block(text, match.end())
            expression = re.search(r"^\s*alarm_name\s*=\s*(.+?)\s*$", body, flags=re.M)
            assert expression, f"{tf.name}: {match[1]} has no alarm_name"
            for_each = re.search(r"^\s*for_each\s*=\s*(.+?)\s*$", body, flags=re.M)
            value = expression[1]
            if value == "each.key":
                template = "${each.key}"
            else:
                assert value.startswith('"') and value.endswith('"'), f"{match[1]}: alarm_name {value}"
                template = value[1:-1]
            template = template.replace("${var.name_prefix}", PREFIX)
            unknown = set(re.findall(r"\$\{([^}]*)\}", template)) - {"each.key"}
            assert not unknown, f"{match[1]}: alarm_name uses {unknown}: teach tests/test_runbook.py"
            if "${each.key}" in template:
                keys = _for_each_keys(for_each[1] if for_each else None)
                names |= {template.replace("${each.key}", key) for key in keys}
            else:
                names.add(template)
    assert resources >= 4, "the monitoring module's alarm resources were not found"
    return names


def runbook_entries() -> dict[str, str]:
    """Alarm heading -> its entry's text, from the `## Alarms` section."""
    text = RUNBOOK.read_text(encoding="utf-8")
    section = text.split("\n## Alarms\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### `([^`]+)`\s*$", section, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_terraform_alarms_are_read_from_both_sources() -> None:
    main = (MONITORING / "main.tf").read_text(encoding="utf-8")
    key = 'coalesce(try(m.alarm.name, null), "${var.name_prefix}-${m.component}-${m.name}")'
    assert f"for m in local.catalog : {key} =>" in main, (
        "main.tf names catalog alarms differently: update _catalog"
    )
    alarms = terraform_alarms()
    assert set(_catalog()) <= alarms
    assert {f"{name}-persists" for name, sev in _catalog().items() if sev == "warning"} <= alarms
    assert f"{PREFIX}-daily-flow-failed" in alarms
    assert f"{PREFIX}-ingestion-errors" in alarms


def test_every_alarm_has_a_runbook_entry() -> None:
    missing = sorted(terraform_alarms() - set(runbook_entries()))
    assert not missing, f"docs/runbook.md: add a `### \\`name\\`` entry under ## Alarms for {missing}"


def test_every_runbook_entry_names_an_alarm_terraform_creates() -> None:
    unknown = sorted(set(runbook_entries()) - terraform_alarms())
    assert not unknown, f"docs/runbook.md names alarms Terraform does not create: {unknown}"


def test_every_entry_says_what_it_means_how_to_check_and_fix() -> None:
    for name, entry in runbook_entries().items():
        for part in ("**Means**", "**Check**", "**Fix**"):
            assert part in entry, f"{name}: no {part}"


def test_the_operations_are_documented() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    for heading in ("DLQ re-drive", "Watermark reset", "Backfill", "Model rollback", "Disaster recovery"):
        assert f"\n### {heading}\n" in text, heading
    assert "lakeml models rollback" in text


def test_the_diagrams_sit_next_to_the_code() -> None:
    for readme in (REPO / "infra" / "README.md", REPO / "lakeml" / "flow" / "README.md"):
        assert "```mermaid" in readme.read_text(encoding="utf-8"), readme


def test_the_flow_diagram_names_every_stage() -> None:
    from lakeml.flow.stages import STAGES

    text = (REPO / "lakeml" / "flow" / "README.md").read_text(encoding="utf-8")
    missing = [stage.name for stage in STAGES if stage.name not in text]
    assert not missing, f"lakeml/flow/README.md's diagram lacks {missing}"


def test_the_runbook_paths_exist() -> None:
    for path in ("infra/modules/lake", "infra/modules/state", "infra/modules/images", "docs/ingestion.md"):
        assert Path(REPO / path).exists(), path
