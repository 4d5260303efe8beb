"""Condition and Fail: the steps that decide the flow instead of running a job."""

from __future__ import annotations

from ml_pipelines.runner.definition import Step
from ml_pipelines.runner.executor import FailStepReached, StepCall, StepOutput


class ConditionExecutor:
    """All conditions true -> IfSteps run and ElseSteps do not; else the other way round."""

    control = True

    def check(self, step: Step, where: str) -> None:
        """Conditions are validated when the definition is loaded."""

    def run(self, call: StepCall) -> StepOutput:
        arguments = call.step.arguments
        outcome = all(call.resolver.condition(c, call.where) for c in arguments.get("Conditions", []))
        losing = arguments.get("ElseSteps" if outcome else "IfSteps", [])
        return StepOutput(properties={"Outcome": outcome}, outcome=outcome, skip=[s["Name"] for s in losing])


class FailExecutor:
    control = True

    def check(self, step: Step, where: str) -> None:
        """The message is resolved when the step runs."""

    def run(self, call: StepCall) -> StepOutput:
        message = call.resolver.resolve(call.step.arguments.get("ErrorMessage", ""), call.where)
        raise FailStepReached(str(message) or f"FailStep {call.step.name} reached")
