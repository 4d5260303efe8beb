"""`python -m lakeml.jobs.batch_inputs`: the BatchInputs processing step of the batch-scoring pipeline
(`ml_pipelines.steps.batch_inputs`), with the model registry and the lake wired."""

from __future__ import annotations

from lakeml.jobs.runtime import Job, run_job
from ml_pipelines.steps import batch_inputs


def main(job: Job, argv: list[str] | None = None) -> int:
    args = batch_inputs.parse_args(argv, job.container)
    return batch_inputs.run(args, registry=job.ports.registry, lake=job.ports.lake)


if __name__ == "__main__":
    run_job(main)
