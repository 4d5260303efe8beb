"""`python -m lakeml.jobs.evaluate`: the Evaluate processing step (`ml_pipelines.steps.evaluate`), with
the model registry (the champion) and the lake (its artefact) wired."""

from __future__ import annotations

from lakeml.jobs.runtime import Job, run_job
from ml_pipelines.steps import evaluate


def main(job: Job, argv: list[str] | None = None) -> int:
    args = evaluate.parse_args(argv, job.container)
    return evaluate.run(args, job.container, registry=job.ports.registry, lake=job.ports.lake)


if __name__ == "__main__":
    run_job(main)
