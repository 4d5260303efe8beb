"""Where a pipeline runs: the names of the pipelines and the AWS resources baked into their definitions.

The names are not pipeline parameters because the SageMaker SDK needs real strings for them. Every one
comes from settings (`Target.from_settings`); the defaults are placeholders that the local runner maps
to this machine and that `placeholders()` refuses for AWS, naming the setting to fill in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ml_pipelines.sagemaker_session import DEFAULT_REGION

if TYPE_CHECKING:
    from lakeml.core.settings import Settings

TRAINING_PIPELINE = "lakeml-churn-training"
BATCH_PIPELINE = "lakeml-churn-batch-scoring"
DEFAULT_MODEL_PACKAGE_GROUP = "lakeml-churn"
DEFAULT_LAKE_BUCKET = "lakeml-lake"  # what the local runner maps to the local lake folder
PLACEHOLDER_ACCOUNT = "000000000000"
STAGING_ENDPOINT = "lakeml-churn-staging"
JOBS = "lakeml.jobs"  # the image runs `python -m lakeml.jobs.<step>` for every processing step


def pipeline_name(*, batch: bool = False) -> str:
    return BATCH_PIPELINE if batch else TRAINING_PIPELINE


@dataclass(frozen=True)
class Target:
    """The AWS names a definition bakes in. On AWS they come from settings set from infra's outputs
    (`LAKEML_AWS__SAGEMAKER_ROLE_ARN`, `LAKEML_AWS__IMAGE_URI`, …); unset ones default to names in the
    account (`LAKEML_AWS__ACCOUNT_ID`), or to placeholders in account 000000000000."""

    region: str = DEFAULT_REGION
    account: str = PLACEHOLDER_ACCOUNT
    bucket: str = DEFAULT_LAKE_BUCKET
    role_arn: str = ""
    image_uri: str = ""
    deploy_function_arn: str = ""
    # Hardening on AWS (empty locally, so the local runner's definition has none of it): the CMK of job
    # volumes and outputs, and the private subnets and security groups of jobs and models.
    kms_key_arn: str = ""
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        defaults = {
            "role_arn": f"arn:aws:iam::{self.account}:role/lakeml-sagemaker-execution",
            "image_uri": f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/lakeml:latest",
            "deploy_function_arn": f"arn:aws:lambda:{self.region}:{self.account}:function:lakeml-deploy-staging",
        }
        for name, value in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)

    @classmethod
    def from_settings(cls, settings: Settings) -> Target:
        aws = settings.aws
        return cls(
            region=aws.region,
            account=aws.account_id or PLACEHOLDER_ACCOUNT,
            bucket=aws.lake_bucket or DEFAULT_LAKE_BUCKET,
            role_arn=aws.sagemaker_role_arn or "",
            image_uri=aws.image_uri or "",
            deploy_function_arn=aws.deploy_function_arn or "",
            kms_key_arn=aws.sagemaker_kms_key_arn or "",
            subnet_ids=tuple(aws.sagemaker_subnet_ids),
            security_group_ids=tuple(aws.sagemaker_security_group_ids),
        )

    def placeholders(self) -> list[str]:
        """The settings (as environment variables) still at their placeholder: fine locally, unusable on AWS."""
        marker = f":{PLACEHOLDER_ACCOUNT}:"
        checks = {
            "LAKEML_AWS__SAGEMAKER_ROLE_ARN": marker in self.role_arn,
            "LAKEML_AWS__IMAGE_URI": self.image_uri.startswith(f"{PLACEHOLDER_ACCOUNT}."),
            "LAKEML_AWS__DEPLOY_FUNCTION_ARN": marker in self.deploy_function_arn,
        }
        return [name for name, is_placeholder in checks.items() if is_placeholder]

    @property
    def kms_key(self) -> str | None:
        """The CMK for the SDK's `*_kms_key*` arguments; None leaves SageMaker's default (AWS-managed) key."""
        return self.kms_key_arn or None

    def network(self) -> Any:
        """A `sagemaker.core.network.NetworkConfig` putting jobs and models in the private subnets, or None."""
        if not self.subnet_ids:
            return None
        from sagemaker.core.network import NetworkConfig

        return NetworkConfig(subnets=list(self.subnet_ids), security_group_ids=list(self.security_group_ids))

    def uri(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}", *parts])

    def execution_prefix(self) -> str:
        """Where a training execution's step outputs go: `<prefix>/<PipelineExecutionId>/<step>/<output>`."""
        return self.uri("ml", "churn", "executions")
