"""Local runner: executes the SageMaker pipeline definition JSON on one machine, without Docker or AWS.

It reads the same JSON that `lakeml pipeline upsert` sends to SageMaker, checks that it supports every
step type, field and function in it before anything runs, then executes the steps in dependency order
with the image's commands run as local Python. See `docs/local-runner.md`.
"""

from ml_pipelines.runner.errors import DefinitionError, StepFailed, UnsupportedFeature

__all__ = ["DefinitionError", "StepFailed", "UnsupportedFeature"]
