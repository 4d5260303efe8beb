"""`python -m lakeml.jobs.train` (the image's `train` command): the training job of every tuning trial
(`ml_pipelines.steps.train`)."""

from __future__ import annotations

from lakeml.jobs.runtime import Job, run_job
from ml_pipelines.steps import train


def main(job: Job, argv: list[str] | None = None) -> int:
    return train.run(train.parse_args(argv, job.container), job.container)


if __name__ == "__main__":
    run_job(main)
