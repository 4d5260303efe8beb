"""Step code of the SageMaker pipelines: one module per step, each with `parse_args(argv, container)` and a
`run(args, …ports)` that receives the adapters it needs. The image runs them as
`python -m lakeml.jobs.<name>` (the app-layer entry points wire the ports), and so does the local runner,
with `/opt/ml` mapped to a job folder. Modules keep their heavy imports (pandas, xgboost) inside
functions so `--help` is fast. (`deploy` is the DeployStaging Lambda's step: `lakeml.handlers`.)
"""
