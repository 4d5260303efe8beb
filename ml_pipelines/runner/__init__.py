"""The pipeline runner port and its adapters, and the local runner behind the local one.

- `port`: the `PipelineRunner` Protocol (upsert, start, describe, executions, wait) and its values (`ExecutionStatus`…);
- `local`: the local adapter — definitions under LAKEML_HOME, executed by the local runner;
- `sagemaker`: the AWS adapter — SageMaker Pipelines through boto3.

The local runner executes the SageMaker pipeline definition JSON on one machine, without Docker or AWS:
`definition` loads and checks it, `engine` walks the steps in dependency order through one table of
executors (`executors`: job steps, control steps, model steps), with `cache`, retries and a typed
execution `record` kept by `records`; `jobs`/`tuning` run the image's commands on this machine, through
`launch` — in warm worker processes (`workers`, `worker`) or a fresh process per job.
See `docs/local-runner.md`.
"""

from ml_pipelines.runner.errors import DefinitionError, StepFailed, UnsupportedFeature

__all__ = ["DefinitionError", "StepFailed", "UnsupportedFeature"]
