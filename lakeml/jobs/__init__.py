"""SageMaker job entry points of the one image: `python -m lakeml.jobs.<step>` parses the job's arguments, wires the adapters and calls the step in `ml_pipelines.steps`."""
