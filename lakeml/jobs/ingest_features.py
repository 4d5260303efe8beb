"""`python -m lakeml.jobs.ingest_features`: the IngestFeatures processing step
(`ml_pipelines.steps.ingest_features`), with the feature store wired."""

from __future__ import annotations

from lakeml.jobs.runtime import Job, run_job
from ml_pipelines.steps import ingest_features


def main(job: Job, argv: list[str] | None = None) -> int:
    args = ingest_features.parse_args(argv, job.container)
    return ingest_features.run(args, store=job.ports.feature_store, lake=job.ports.lake)


if __name__ == "__main__":
    run_job(main)
