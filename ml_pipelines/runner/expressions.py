"""Values in a definition: literals, `Get` references, `Std:Join`, `Std:JsonGet`, and conditions.

`scan()` walks a value before anything runs and reports every reference and every function, so an
unsupported function or a reference to a missing parameter/step fails the run up front. `Resolver`
turns a value into plain data once the steps it refers to have run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_pipelines.runner.errors import DefinitionError, UnsupportedFeature
from ml_pipelines.runner.paths import lookup, parse_path

FUNCTIONS = ("Get", "Std:Join", "Std:JsonGet")
CONDITIONS = (
    "Equals",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "In",
    "Not",
    "Or",
)
EXECUTION_VARIABLES = (
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "PipelineName",
    "PipelineArn",
    "StartDateTime",
    "CurrentDateTime",
)


@dataclass
class Scan:
    parameters: set[str] = field(default_factory=set)
    steps: set[str] = field(default_factory=set)
    step_paths: list[tuple[str, list[str | int]]] = field(default_factory=list)


def _is_function(value: object) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and (next(iter(value)) in FUNCTIONS or next(iter(value)).startswith("Std:"))
    )


def scan(value: Any, where: str, result: Scan | None = None) -> Scan:
    """Collect references in `value`; raise for unsupported functions or malformed references."""
    result = result or Scan()
    if isinstance(value, list):
        for item in value:
            scan(item, where, result)
    elif isinstance(value, dict):
        if _is_function(value):
            ((name, body),) = value.items()
            if name not in FUNCTIONS:
                raise UnsupportedFeature(
                    f"{where}: function {name!r} is not supported by the local runner "
                    f"(supported: {', '.join(FUNCTIONS)})"
                )
            if name == "Get":
                _scan_get(body, where, result)
            elif name == "Std:Join":
                if not isinstance(body, dict) or "Values" not in body:
                    raise DefinitionError(f"{where}: Std:Join needs 'On' and 'Values'")
                scan(body["Values"], where, result)
            else:  # Std:JsonGet
                if not isinstance(body, dict) or "PropertyFile" not in body or "Path" not in body:
                    raise DefinitionError(f"{where}: Std:JsonGet needs 'PropertyFile' and 'Path'")
                scan(body["PropertyFile"], where, result)
        else:
            for key, item in value.items():
                scan(item, f"{where}.{key}", result)
    return result


def _scan_get(path: object, where: str, result: Scan) -> None:
    if not isinstance(path, str):
        raise DefinitionError(f"{where}: Get needs a string path, got {path!r}")
    parts = parse_path(path)
    root = parts[0]
    if root == "Parameters" and len(parts) == 2:
        result.parameters.add(str(parts[1]))
    elif root == "Execution" and len(parts) == 2:
        if parts[1] not in EXECUTION_VARIABLES:
            raise UnsupportedFeature(
                f"{where}: execution variable {parts[1]!r} is not supported "
                f"(supported: {', '.join(EXECUTION_VARIABLES)})"
            )
    elif root == "Steps" and len(parts) >= 3:
        result.steps.add(str(parts[1]))
        result.step_paths.append((str(parts[1]), parts[2:]))
    else:
        raise DefinitionError(
            f"{where}: cannot resolve Get {path!r}; it must start with "
            "Parameters.<name>, Execution.<variable> or Steps.<step>.<property>"
        )


@dataclass
class Resolver:
    """Resolves values against the run's parameters, execution variables and finished steps.

    `step_properties[step]` is the step's properties document (shaped like the Describe* API response);
    `property_file(step, name)` returns the local path of a PropertyFile a step produced."""

    parameters: dict[str, Any]
    execution: dict[str, Any]
    step_properties: dict[str, dict[str, Any]]
    property_file: Callable[[str, str], Path]

    def resolve(self, value: Any, where: str = "") -> Any:
        if isinstance(value, list):
            return [self.resolve(v, where) for v in value]
        if isinstance(value, dict):
            if _is_function(value):
                ((name, body),) = value.items()
                if name == "Get":
                    return self._get(body, where)
                if name == "Std:Join":
                    values = self.resolve(body["Values"], where)
                    return str(body.get("On", "")).join(_as_text(v) for v in values)
                return self._json_get(body, where)
            return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        return value

    def _get(self, path: str, where: str) -> Any:
        parts = parse_path(path)
        if parts[0] == "Parameters":
            return self.parameters[str(parts[1])]
        if parts[0] == "Execution":
            return self.execution[str(parts[1])]
        step = str(parts[1])
        if step not in self.step_properties:
            raise DefinitionError(f"{where}: Get {path!r} refers to step '{step}', which has not run")
        if parts[2] == "PropertyFiles":
            return {"__property_file__": (step, str(parts[3]))}
        return lookup(self.step_properties[step], parts[2:], where=f"{where}: Get {path!r}")

    def _json_get(self, body: dict[str, Any], where: str) -> Any:
        reference = self.resolve(body["PropertyFile"], where)
        if not (isinstance(reference, dict) and "__property_file__" in reference):
            raise DefinitionError(
                f"{where}: Std:JsonGet PropertyFile must be a Get of Steps.<step>.PropertyFiles.<name>"
            )
        step, name = reference["__property_file__"]
        path = self.property_file(step, name)
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise DefinitionError(
                f"{where}: property file {name} of step '{step}' ({path}) is unreadable: {exc}"
            ) from None
        json_path = str(self.resolve(body["Path"], where))
        return lookup(document, parse_path(json_path), where=f"{where}: Std:JsonGet {name}:{json_path}")

    # --- conditions -------------------------------------------------------------------------------
    def condition(self, condition: dict[str, Any], where: str) -> bool:
        kind = condition.get("Type")
        if kind == "Not":
            return not self.condition(condition["Expression"], where)
        if kind == "Or":
            return any(self.condition(c, where) for c in condition["Conditions"])
        if kind == "In":
            query = self.resolve(condition["QueryValue"], where)
            return any(_equal(query, self.resolve(v, where)) for v in condition["Values"])
        left = self.resolve(condition["LeftValue"], where)
        right = self.resolve(condition["RightValue"], where)
        if kind == "Equals":
            return _equal(left, right)
        left_n, right_n = _number(left, where), _number(right, where)
        return {
            "GreaterThan": left_n > right_n,
            "GreaterThanOrEqualTo": left_n >= right_n,
            "LessThan": left_n < right_n,
            "LessThanOrEqualTo": left_n <= right_n,
        }[str(kind)]


def check_condition(condition: object, where: str) -> Iterator[Any]:
    """Validate a condition's shape up front; yield the values in it (for `scan`)."""
    if not isinstance(condition, dict) or "Type" not in condition:
        raise DefinitionError(f"{where}: a condition needs a 'Type'")
    kind = condition["Type"]
    if kind not in CONDITIONS:
        raise UnsupportedFeature(
            f"{where}: condition type {kind!r} is not supported (supported: {', '.join(CONDITIONS)})"
        )
    if kind == "Not":
        if "Expression" not in condition:
            raise DefinitionError(f"{where}: Not needs 'Expression'")
        yield from check_condition(condition["Expression"], where)
    elif kind == "Or":
        for inner in condition.get("Conditions", []):
            yield from check_condition(inner, where)
    elif kind == "In":
        if "QueryValue" not in condition or "Values" not in condition:
            raise DefinitionError(f"{where}: In needs 'QueryValue' and 'Values'")
        yield condition["QueryValue"]
        yield from condition["Values"]
    else:
        if "LeftValue" not in condition or "RightValue" not in condition:
            raise DefinitionError(f"{where}: {kind} needs 'LeftValue' and 'RightValue'")
        yield condition["LeftValue"]
        yield condition["RightValue"]


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return float(left) == float(right)
    return _as_text(left) == _as_text(right)


def _number(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DefinitionError(f"{where}: condition compares {value!r}, which is not a number") from None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
