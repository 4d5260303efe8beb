"""Deploying registered model versions to endpoints, behind one port.

- `port`: the `Deployer` Protocol (`deploy`, `serving`, `variants`, `deploys_on_approval`), `DeployResult`,
  `EndpointVariant`, errors;
- `local`: the local adapter (the local server's endpoint config);
- `sagemaker`: the AWS adapter (SageMaker endpoint, blue/green canary with alarm rollback, autoscaling).

`lakeml.wiring` builds the adapter; `ml_pipelines.serving.on_approval` (the approval hook, rollback) and
the deploy-staging handler take a `Deployer`.
"""

from ml_pipelines.serving.deploy.port import (
    PRODUCTION_ENDPOINT,
    Deployer,
    DeployFailed,
    DeployResult,
    EndpointVariant,
    VersionLike,
    version_label,
)

__all__ = [
    "PRODUCTION_ENDPOINT",
    "DeployFailed",
    "DeployResult",
    "Deployer",
    "EndpointVariant",
    "VersionLike",
    "version_label",
]
