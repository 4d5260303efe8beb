"""SageMaker job entry points of the one image: `python -m lakeml.jobs.<step>` parses the job's
arguments, wires the adapters and calls the step in `ml_pipelines.steps` (`runtime.run_job` does the
common part: settings, the container contract, SageMaker's failure file). The image's `train` command
is `python -m lakeml.jobs.train`."""
