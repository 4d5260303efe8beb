"""Load a pipeline definition and check, before any step runs, that the local runner supports all of it.

For each supported step type we list the argument fields it executes and the ones that only matter on
AWS (instance sizes, roles, networking: accepted, no local meaning). Any other field, step type,
function or condition fails here, naming it — never halfway through a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_pipelines.runner.errors import DefinitionError, UnsupportedFeature
from ml_pipelines.runner.expressions import Scan, check_condition, scan

VERSION = "2020-12-01"
PARAMETER_TYPES = {"String": str, "Integer": int, "Float": float, "Boolean": bool}

_AWS_ONLY = {
    "RoleArn",
    "Tags",
    "NetworkConfig",
    "VpcConfig",
    "ExperimentConfig",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "DebugHookConfig",
    "DebugRuleConfigurations",
    "ProfilerConfig",
    "ProfilerRuleConfigurations",
    "RetryStrategy",
    "CheckpointConfig",
    "TensorBoardOutputConfig",
    "RemoteDebugConfig",
    "InfraCheckConfig",
    "SessionChainingConfig",
    "ResourceConfig",
    "ProcessingResources",
    "TransformResources",
    "DataProcessing",
    "BatchStrategy",
    "MaxConcurrentTransforms",
    "MaxPayloadInMB",
    "ModelClientConfig",
    "DataCaptureConfig",
    "ExecutionRoleArn",
    "WarmStartConfig",
    "Autotune",
    "TrainingJobDefinitions",
    "StoppingCondition",
}

# step type -> (argument fields executed locally, fields that have no local meaning)
STEP_FIELDS: dict[str, set[str]] = {
    "Processing": {"AppSpecification", "ProcessingInputs", "ProcessingOutputConfig", "Environment"},
    "Training": {
        "AlgorithmSpecification",
        "HyperParameters",
        "InputDataConfig",
        "OutputDataConfig",
        "Environment",
    },
    "Tuning": {"HyperParameterTuningJobConfig", "TrainingJobDefinition"},
    "Condition": {"Conditions", "IfSteps", "ElseSteps"},
    "Fail": {"ErrorMessage"},
    "RegisterModel": {
        "ModelPackageGroupName",
        "InferenceSpecification",
        "ModelApprovalStatus",
        "ModelMetrics",
        "CustomerMetadataProperties",
        "ModelPackageDescription",
        "MetadataProperties",
        "DriftCheckBaselines",
        "Domain",
        "Task",
        "SamplePayloadUrl",
        "SkipModelValidation",
        "ModelCard",
        "SourceUri",
        "ModelLifeCycle",
    },
    "Model": {"PrimaryContainer", "Containers"},
    "Transform": {"ModelName", "TransformInput", "TransformOutput", "Environment", "DataProcessing"},
    "Lambda": set(),  # arguments are the function's input
}
STEP_KEYS = {
    "Name",
    "Type",
    "Arguments",
    "DependsOn",
    "CacheConfig",
    "RetryPolicies",
    "PropertyFiles",
    "Description",
    "DisplayName",
    "FunctionArn",
    "OutputParameters",
    "Timeout",
}
UNSUPPORTED_STEPS = {
    "Callback",
    "ClarifyCheck",
    "QualityCheck",
    "EMR",
    "AutoML",
    "Endpoint",
    "EndpointConfig",
    "Notebook",
    "Emr",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any

    def coerce(self, raw: Any) -> Any:
        """Type-check a value (from the definition default or a `--param K=V` override)."""
        kind = PARAMETER_TYPES[self.type]
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("true", "false"):
                return str(raw).lower() == "true"
        elif kind is int:
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
                return int(raw)
        elif kind is float:
            try:
                return float(raw)
            except (TypeError, ValueError):
                pass
        else:
            return str(raw)
        raise DefinitionError(f"parameter {self.name} is {self.type}; {raw!r} is not a valid {self.type}")


@dataclass
class Step:
    name: str
    type: str
    raw: dict[str, Any]
    depends_on: list[str]
    branch_of: str | None = None  # condition step whose If/Else list holds this step
    references: Scan = field(default_factory=Scan)

    @property
    def arguments(self) -> Any:
        return self.raw.get("Arguments", {})


@dataclass
class Definition:
    raw: dict[str, Any]
    parameters: dict[str, Parameter]
    steps: dict[str, Step]  # every step, including those nested in condition branches

    def resolve_parameters(self, overrides: dict[str, str]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - set(self.parameters))
        if unknown:
            raise DefinitionError(
                f"unknown parameter(s) {', '.join(unknown)}; the definition has "
                f"{', '.join(sorted(self.parameters)) or 'none'}"
            )
        values = {}
        for name, parameter in self.parameters.items():
            if name in overrides:
                values[name] = parameter.coerce(overrides[name])
            elif parameter.default is not None:
                values[name] = parameter.coerce(parameter.default)
            else:
                raise DefinitionError(
                    f"parameter {name} has no default; pass --param {name}=<{parameter.type}>"
                )
        return values


def load(source: str | Path | dict[str, Any]) -> Definition:
    raw = source if isinstance(source, dict) else json.loads(Path(source).read_text())
    if raw.get("Version") != VERSION:
        raise UnsupportedFeature(
            f"definition Version {raw.get('Version')!r} is not supported; expected {VERSION!r}"
        )
    parameters = {}
    for entry in raw.get("Parameters", []):
        if entry.get("Type") not in PARAMETER_TYPES:
            raise UnsupportedFeature(
                f"parameter {entry.get('Name')!r} has type {entry.get('Type')!r}; "
                f"supported: {', '.join(PARAMETER_TYPES)}"
            )
        parameters[entry["Name"]] = Parameter(entry["Name"], entry["Type"], entry.get("DefaultValue"))
    steps: dict[str, Step] = {}
    _collect(raw.get("Steps", []), steps, branch_of=None)
    if not steps:
        raise DefinitionError("the definition has no steps")
    definition = Definition(raw=raw, parameters=parameters, steps=steps)
    _validate(definition)
    return definition


def _collect(entries: list[dict[str, Any]], steps: dict[str, Step], branch_of: str | None) -> None:
    for entry in entries:
        name, kind = entry.get("Name"), entry.get("Type")
        if not name or not kind:
            raise DefinitionError(f"every step needs a Name and a Type; got {json.dumps(entry)[:120]}")
        if name in steps:
            raise DefinitionError(f"step name {name!r} is used twice")
        if kind in UNSUPPORTED_STEPS or kind not in STEP_FIELDS:
            raise UnsupportedFeature(
                f"step '{name}' has type {kind!r}, which the local runner does not execute "
                f"(supported: {', '.join(STEP_FIELDS)})"
            )
        extra = sorted(set(entry) - STEP_KEYS)
        if extra:
            raise UnsupportedFeature(
                f"step '{name}': field(s) {', '.join(extra)} are not supported by the local runner"
            )
        steps[name] = Step(
            name=name, type=kind, raw=entry, depends_on=list(entry.get("DependsOn", [])), branch_of=branch_of
        )
        if kind == "Condition":
            _collect(entry.get("Arguments", {}).get("IfSteps", []), steps, branch_of=name)
            _collect(entry.get("Arguments", {}).get("ElseSteps", []), steps, branch_of=name)


def _validate(definition: Definition) -> None:
    for step in definition.steps.values():
        where = f"step '{step.name}'"
        arguments = step.arguments
        if step.type != "Lambda":
            if not isinstance(arguments, dict):
                raise DefinitionError(f"{where}: Arguments must be an object")
            unknown = sorted(set(arguments) - STEP_FIELDS[step.type] - _AWS_ONLY)
            if unknown:
                raise UnsupportedFeature(
                    f"{where} ({step.type}): argument field(s) {', '.join(unknown)} are not "
                    "supported by the local runner"
                )
        if step.type == "Lambda" and not step.raw.get("FunctionArn"):
            raise DefinitionError(f"{where}: a Lambda step needs FunctionArn")
        if step.type == "Condition":
            for condition in arguments.get("Conditions", []):
                for value in check_condition(condition, where):
                    scan(value, where, step.references)
        else:
            scan(arguments, where, step.references)
        scan(step.raw.get("FunctionArn"), where, step.references)
        for name in step.depends_on:
            if name not in definition.steps:
                raise DefinitionError(f"{where}: DependsOn names step '{name}', which does not exist")
        for parameter in step.references.parameters:
            if parameter not in definition.parameters:
                raise DefinitionError(
                    f"{where}: refers to parameter '{parameter}', which the definition does not declare"
                )
        for referenced in step.references.steps:
            if referenced not in definition.steps:
                raise DefinitionError(f"{where}: refers to step '{referenced}', which does not exist")
            if referenced == step.name:
                raise DefinitionError(f"{where}: refers to its own properties")
        _check_retry(step, where)
        _check_property_paths(definition, step, where)
    order(definition)  # raises on cycles


def _check_retry(step: Step, where: str) -> None:
    for policy in step.raw.get("RetryPolicies", []):
        unknown = sorted(
            set(policy) - {"ExceptionType", "IntervalSeconds", "BackoffRate", "MaxAttempts", "ExpireAfterMin"}
        )
        if unknown:
            raise UnsupportedFeature(f"{where}: retry policy field(s) {', '.join(unknown)} are not supported")


_PROPERTY_ROOTS = {
    "Processing": {
        "ProcessingOutputConfig",
        "ProcessingJobName",
        "ProcessingJobArn",
        "ProcessingJobStatus",
        "PropertyFiles",
        "AppSpecification",
        "ProcessingInputs",
        "ExitMessage",
    },
    "Training": {
        "ModelArtifacts",
        "TrainingJobName",
        "TrainingJobArn",
        "TrainingJobStatus",
        "FinalMetricDataList",
        "HyperParameters",
        "OutputDataConfig",
    },
    "Tuning": {
        "BestTrainingJob",
        "TrainingJobSummaries",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobArn",
        "HyperParameterTuningJobStatus",
    },
    "RegisterModel": {
        "ModelPackageArn",
        "ModelPackageGroupName",
        "ModelPackageVersion",
        "ModelApprovalStatus",
        "ModelPackageName",
    },
    "Model": {"ModelName", "ModelArn"},
    "Transform": {"TransformJobName", "TransformJobArn", "TransformOutput", "TransformJobStatus"},
    "Lambda": {"OutputParameters"},
    "Condition": {"Outcome"},
    "Fail": set(),
}


def _check_property_paths(definition: Definition, step: Step, where: str) -> None:
    for referenced, path in step.references.step_paths:
        target = definition.steps[referenced]
        root = str(path[0])
        if root not in _PROPERTY_ROOTS[target.type]:
            raise DefinitionError(
                f"{where}: Get Steps.{referenced}.{root}… is not a property of a {target.type} "
                f"step (known: {', '.join(sorted(_PROPERTY_ROOTS[target.type]))})"
            )
        if root == "PropertyFiles":
            names = {p.get("PropertyFileName") for p in target.raw.get("PropertyFiles", [])}
            if len(path) < 2 or path[1] not in names:
                raise DefinitionError(
                    f"{where}: step '{referenced}' declares no property file "
                    f"{path[1] if len(path) > 1 else ''!r} (declared: {', '.join(sorted(map(str, names)))})"
                )


def order(definition: Definition) -> list[str]:
    """Topological order from data references plus DependsOn (and branch membership); raise on cycles."""
    graph = upstream(definition)
    done: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise DefinitionError(f"steps form a cycle: {' -> '.join([*trail, name])}")
        state[name] = "visiting"
        for parent in sorted(graph[name]):
            visit(parent, [*trail, name])
        state[name] = "done"
        done.append(name)

    for name in definition.steps:
        visit(name, [])
    return done


def upstream(definition: Definition) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for step in definition.steps.values():
        parents = set(step.depends_on) | step.references.steps
        if step.branch_of:
            parents.add(step.branch_of)
        graph[step.name] = parents
    return graph
