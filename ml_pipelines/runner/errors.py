"""Errors of the local runner, each naming the step and the thing that is wrong."""

from __future__ import annotations

from lakeml.core.errors import LakemlError, UsageError


class DefinitionError(UsageError):
    """The definition (or a --param override) is invalid: fix the JSON or the override."""


class UnsupportedFeature(DefinitionError):
    """The definition uses a step type, field or function the local runner does not execute."""


class StepFailed(LakemlError):
    """A step ran and failed; the execution stops (like SageMaker, no further steps start)."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"step '{step}' failed: {reason}")
        self.step = step
        self.reason = reason
