"""Check one role's recorded calls against its policies; the JSON report and the readable table.

`check(...)` gives a `RoleReport`: `denied` = every call some IAM request of which is not allowed (with
the statement it would need), `not_evaluated` = requests only a condition on an undetermined key would
allow, `unused` = granted (statement, action) pairs that allowed no recorded request and that no
justification covers, `justified` = those covered, with the reason. Use is counted per statement: a
statement granting s3:DeleteObject on ml/* is unused even if another one's DeleteObject was used. `infra/reports/iam.json` has `{"roles": {role: {"calls": n, "denied": [...],
"unused": [...], ...}}}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.infra.emulator.iam.actions import Access, Unmapped, accesses, describe
from tests.infra.emulator.iam.evaluate import Decision, Statement, evaluate, granted
from tests.infra.emulator.iam.recorder import RoleRun


@dataclass
class RoleReport:
    role: str
    runtimes: list[str] = field(default_factory=list)
    calls: int = 0
    denied: list[str] = field(default_factory=list)
    not_evaluated: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    justified: dict[str, str] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)
    not_run: str | None = None  # why no runtime of this role ran on the emulator

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "calls": self.calls,
            "denied": self.denied,
            "unused": self.unused,
            "not_evaluated": self.not_evaluated,
            "justified": self.justified,
            "used": self.used,
            "runtimes": self.runtimes,
        }
        if self.not_run:
            data["not_run"] = self.not_run
        return data


def missing_grant(access: Access) -> str:
    """The statement that would allow `access`, as a reviewer would add it."""
    context = {k: v for k, v in access.context.items() if not k.startswith("aws:")}
    when = f" when {context}" if context else ""
    return f'Allow "{access.action}" on "{access.resource}"{when}'


def check(
    role: str,
    policy: list[Statement],
    runs: list[RoleRun],
    account: str,
    justifications: Mapping[str, str],
) -> RoleReport:
    report = RoleReport(role, runtimes=[run.runtime for run in runs])
    used: set[tuple[str, str]] = set()  # (statement, action lower-cased) that allowed a recorded request
    seen_denials: set[str] = set()
    for run in runs:
        for call in run.calls:
            report.calls += 1
            try:
                requests = accesses(call, account)
            except Unmapped as exc:  # a failure like a denial: the call is not proven allowed
                report.denied.append(f"{call}({describe(call.params)}): cannot be mapped to IAM: {exc}")
                continue
            for access in requests:
                result = evaluate(policy, access)
                if result.decision is Decision.ALLOWED:
                    used.update((statement, access.action.lower()) for statement in result.statements)
                    continue
                line = f"{call}({describe(call.params)}) -> {access}: {result.decision.value}"
                if result.decision is Decision.CONDITION_NOT_EVALUATED:
                    line += f" (keys {', '.join(result.unknown_keys)} in {', '.join(result.statements)})"
                    target = report.not_evaluated
                else:
                    where = f" by {', '.join(result.statements)}" if result.statements else ""
                    line += f"{where}; needs {missing_grant(access)}"
                    target = report.denied
                if line not in seen_denials:
                    seen_denials.add(line)
                    target.append(line)
    for statement, action in granted(policy):
        where = f"{action} ({statement})"
        if (statement, action.lower()) in used:
            report.used.append(where)
        elif reason := justifications.get(
            f"{statement.rsplit('/', 1)[-1]}/{action}", justifications.get(action)
        ):
            report.justified[where] = reason
        else:
            report.unused.append(where)
    return report


def write(path: Path, reports: list[RoleReport], *, notes: Mapping[str, Any] | None = None) -> None:
    data: dict[str, Any] = {"roles": {r.role: r.as_json() for r in sorted(reports, key=lambda r: r.role)}}
    if notes:
        data["notes"] = dict(notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def table(reports: list[RoleReport]) -> Table:
    view = Table(title="Least privilege: recorded calls against each role's policies")
    for column in ("role", "runtimes", "calls", "denied", "not evaluated", "unused", "justified"):
        view.add_column(column, justify="right" if column not in ("role", "runtimes") else "left")
    for r in sorted(reports, key=lambda r: r.role):
        view.add_row(
            r.role,
            ", ".join(r.runtimes) or f"— {r.not_run or ''}",
            str(r.calls),
            str(len(r.denied)),
            str(len(r.not_evaluated)),
            str(len(r.unused)),
            str(len(r.justified)),
        )
    return view


def show(reports: list[RoleReport]) -> None:
    console = Console(width=160)
    console.print(table(reports))
    for r in reports:
        for title, lines in (("denied", r.denied), ("unused", r.unused), ("not evaluated", r.not_evaluated)):
            for line in lines:
                console.print(f"  {r.role} {title}: {line}", soft_wrap=True)
