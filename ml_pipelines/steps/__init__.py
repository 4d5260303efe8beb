"""Step code of the SageMaker pipelines: one module per step, each runnable as
`python -m ml_pipelines.steps.<name>` inside the one image (or by the local runner with `/opt/ml` mapped
to a job folder). Modules keep their heavy imports (pandas, xgboost) inside functions so `--help` is fast.
"""
