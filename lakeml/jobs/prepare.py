"""`python -m lakeml.jobs.prepare`: the Prepare processing step (`ml_pipelines.steps.prepare`)."""

from __future__ import annotations

from lakeml.jobs.runtime import Job, run_job
from ml_pipelines.steps import prepare


def main(job: Job, argv: list[str] | None = None) -> int:
    return prepare.run(prepare.parse_args(argv, job.container))


if __name__ == "__main__":
    run_job(main)
