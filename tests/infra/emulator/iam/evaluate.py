"""Evaluate IAM requests (`actions.Access`) against one role's identity policies as Terraform rendered them.

IAM's order for identity policies: an explicit Deny that applies wins; else an Allow that applies allows;
else the request is implicitly denied. A statement applies when its Action/NotAction matches the action
(case-insensitive, `*`/`?` wildcards), its Resource/NotResource matches the ARN (case-sensitive) and
every condition holds. Conditions are evaluated only on keys the call determines (`KNOWN_KEYS`, filled by
`actions`); a condition on any other key (kms:ViaService, aws:SourceIp, ...) is three-valued "unknown",
and a request that only an unknown condition would allow is reported as `CONDITION_NOT_EVALUATED`, never
silently allowed. Action wildcards of grants are expanded with policy_sentry's IAM database (`granted`).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policy_sentry.analysis.expand import expand

from tests.infra.emulator.iam.actions import Access

# Condition keys `actions.accesses` sets whenever the call carries them: absent means absent.
KNOWN_KEYS = frozenset(
    k.lower()
    for k in (
        "s3:prefix",
        "iam:PassedToService",
        "ecs:cluster",
        "cloudwatch:namespace",
        "iam:AWSServiceName",
        "aws:SecureTransport",
    )
)


class Decision(enum.Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitly denied"
    IMPLICIT_DENY = "not allowed"
    CONDITION_NOT_EVALUATED = "condition not evaluated"


@dataclass(frozen=True)
class Statement:
    policy: str
    sid: str
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.policy}/{self.sid or '?'}"


@dataclass(frozen=True)
class Result:
    decision: Decision
    statements: tuple[str, ...] = ()  # the statements that decided
    unknown_keys: tuple[str, ...] = ()


def _list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def statements(policy_name: str, document: str | Mapping[str, Any]) -> list[Statement]:
    """The statements of one policy document (a JSON string, as Terraform stores it, or a dict)."""
    doc = json.loads(document) if isinstance(document, str) else document
    found = []
    for raw in _list_of_dicts(doc.get("Statement", [])):
        found.append(
            Statement(
                policy=policy_name,
                sid=raw.get("Sid", ""),
                effect=raw["Effect"],
                actions=_list(raw.get("Action")),
                not_actions=_list(raw.get("NotAction")),
                resources=_list(raw.get("Resource")),
                not_resources=_list(raw.get("NotResource")),
                conditions=raw.get("Condition", {}),
            )
        )
    return found


def _list_of_dicts(value: Any) -> list[dict[str, Any]]:
    return [value] if isinstance(value, dict) else list(value)


def _glob(pattern: str, value: str, *, case: bool) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character (nothing else is special)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(_glob(p, action, case=False) for p in patterns)


def resource_matches(patterns: Iterable[str], arn: str) -> bool:
    return any(_glob(p, arn, case=True) for p in patterns)


# ------------------------------------------------------------------------------------------ conditions

_STRING = {
    "StringEquals": lambda v, p: v == p,
    "StringNotEquals": lambda v, p: v != p,
    "StringEqualsIgnoreCase": lambda v, p: v.lower() == p.lower(),
    "StringNotEqualsIgnoreCase": lambda v, p: v.lower() != p.lower(),
    "StringLike": lambda v, p: _glob(p, v, case=True),
    "StringNotLike": lambda v, p: not _glob(p, v, case=True),
    "ArnEquals": lambda v, p: v == p,
    "ArnLike": lambda v, p: _glob(p, v, case=True),
    "ArnNotEquals": lambda v, p: v != p,
    "ArnNotLike": lambda v, p: not _glob(p, v, case=True),
    "Bool": lambda v, p: v.lower() == str(p).lower(),
}
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def condition_holds(
    conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]
) -> tuple[bool | None, tuple[str, ...]]:
    """True/False, or None when a key the call does not determine decides; plus those keys."""
    ctx = {k.lower(): v for k, v in context.items()}
    outcome: bool | None = True
    unknown: list[str] = []
    for operator, block in conditions.items():
        for key, expected in block.items():
            value = _one(
                operator,
                key.lower(),
                _list(expected) if not isinstance(expected, bool) else (str(expected),),
                ctx,
            )
            if value is False:
                return False, ()
            if value is None:
                outcome = None
                unknown.append(key)
    return outcome, tuple(unknown)


def _one(operator: str, key: str, expected: tuple[str, ...], ctx: Mapping[str, str]) -> bool | None:
    if operator.startswith(("ForAnyValue:", "ForAllValues:")):
        return None  # multivalued keys: none of lakeml's calls carry one
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base == "Null":
        if key not in KNOWN_KEYS and key not in ctx:
            return None
        return (key not in ctx) == (str(expected[0]).lower() == "true")
    if key not in ctx:
        if if_exists:
            return True
        if key in KNOWN_KEYS:
            return base in _NEGATED  # absent: only a negated operator holds
        return None
    test = _STRING.get(base)
    if test is None:
        return None  # Numeric*/Date*/IpAddress: never on a key lakeml's calls carry
    value = ctx[key]
    if base in _NEGATED:
        return all(test(value, p) for p in expected)
    return any(test(value, p) for p in expected)


# ------------------------------------------------------------------------------------------ evaluation


def applies(statement: Statement, access: Access) -> tuple[bool | None, tuple[str, ...]]:
    if statement.actions and not action_matches(statement.actions, access.action):
        return False, ()
    if statement.not_actions and action_matches(statement.not_actions, access.action):
        return False, ()
    if statement.resources and not resource_matches(statement.resources, access.resource):
        return False, ()
    if statement.not_resources and resource_matches(statement.not_resources, access.resource):
        return False, ()
    return condition_holds(statement.conditions, access.context)


def evaluate(policy: list[Statement], access: Access) -> Result:
    allowing: list[str] = []
    maybe: list[tuple[str, tuple[str, ...]]] = []
    for statement in policy:
        holds, unknown = applies(statement, access)
        if statement.effect == "Deny":
            if holds:
                return Result(Decision.EXPLICIT_DENY, (statement.name,))
            if holds is None:
                return Result(Decision.CONDITION_NOT_EVALUATED, (statement.name,), unknown)
        elif holds:
            allowing.append(statement.name)
        elif holds is None:
            maybe.append((statement.name, unknown))
    if allowing:
        return Result(Decision.ALLOWED, tuple(allowing))
    if maybe:
        return Result(
            Decision.CONDITION_NOT_EVALUATED,
            tuple(name for name, _ in maybe),
            tuple(sorted({k for _, keys in maybe for k in keys})),
        )
    return Result(Decision.IMPLICIT_DENY)


def granted(policy: list[Statement]) -> list[tuple[str, str]]:
    """Every (statement, action) an Allow statement grants, wildcards expanded with policy_sentry's IAM
    database; the action as IAM spells it."""
    found: list[tuple[str, str]] = []
    for statement in policy:
        if statement.effect != "Allow" or statement.not_actions:
            continue
        for pattern in statement.actions:
            for action in expand(pattern) if "*" in pattern or "?" in pattern else [pattern]:
                if (statement.name, action) not in found:
                    found.append((statement.name, action))
    return found


def role_policies(state: Mapping[str, Any], role_name: str) -> list[Statement]:
    """The statements of every inline and attached managed policy of `role_name` in `terraform show -json`
    output (the documents as applied, after Terraform rendered them)."""
    resources = list(_resources(state.get("values", {}).get("root_module", {})))
    managed = {r["values"]["arn"]: r for r in resources if r["type"] == "aws_iam_policy"}
    found: list[Statement] = []
    for r in resources:
        v = r["values"]
        if r["type"] == "aws_iam_role_policy" and _role_of(v["role"]) == role_name:
            found.extend(statements(f"inline:{v['name']}", v["policy"]))
        elif r["type"] == "aws_iam_role_policy_attachment" and v["role"] == role_name:
            policy = managed.get(v["policy_arn"])
            if policy is None:
                raise LookupError(f"{role_name}: attached policy {v['policy_arn']} is not in the state")
            found.extend(statements(f"managed:{policy['values']['name']}", policy["values"]["policy"]))
    return found


def role_names(state: Mapping[str, Any]) -> dict[str, str]:
    """Every aws_iam_role of the state: name -> ARN."""
    return {
        r["values"]["name"]: r["values"]["arn"]
        for r in _resources(state.get("values", {}).get("root_module", {}))
        if r["type"] == "aws_iam_role"
    }


def _role_of(role: str) -> str:
    # aws_iam_role_policy.role is the role's name (its id); an ARN is accepted too
    return role.rsplit("/", 1)[-1]


def _resources(module: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from (r for r in module.get("resources", []) if r.get("mode") == "managed")
    for child in module.get("child_modules", []):
        yield from _resources(child)
