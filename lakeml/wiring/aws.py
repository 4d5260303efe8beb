"""AWS adapters of every port (LAKEML_ENV=aws): S3, DynamoDB, Secrets Manager, Snowflake, Glue, SageMaker,
SNS, Step Functions. Names and ARNs come from `settings.aws`; clients from `lakeml.core.aws.client`."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from lakeml.core.errors import ConfigError, UsageError
from lakeml.core.lake.s3 import S3Lake, S3LakeHistory
from lakeml.core.settings import Settings

if TYPE_CHECKING:
    from ingestion.secrets.port import SecretsProvider
    from ingestion.source.port import SourceConnector
    from ingestion.watermarks.port import WatermarkStore
    from lakeml.flow.port import Orchestrator
    from lakeml.notify.port import Notifier
    from lakeml.transform.targets.port import TransformTarget
    from lakeml.twins.glue.twin import GlueTwin
    from lakeml.twins.snowflake.twin import SnowflakeTwin
    from ml_pipelines.feature_store import FeatureStore
    from ml_pipelines.registry import ModelRegistry
    from ml_pipelines.runner.port import PipelineRunner
    from ml_pipelines.serving.deploy import Deployer


class AwsAdapters:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _client(self, service: str) -> Any:
        from lakeml.core import aws

        return aws.client(service, self.settings.aws.region, self.settings.aws.endpoint_url)

    @cached_property
    def lake(self) -> S3Lake:
        bucket = self.settings.aws.lake_bucket
        if not bucket:
            raise ConfigError(
                "aws.lake_bucket is not set; set LAKEML_AWS__LAKE_BUCKET or [aws] lake_bucket in lakeml.toml "
                "(`terraform output lakeml` prints it)"
            )
        return S3Lake(bucket, self.settings.aws.region, self.settings.aws.endpoint_url)

    @cached_property
    def lake_history(self) -> S3LakeHistory:
        return S3LakeHistory(self.lake.bucket, self.settings.aws.region, self.settings.aws.endpoint_url)

    @cached_property
    def watermarks(self) -> WatermarkStore:
        from ingestion.watermarks.dynamo import DynamoWatermarkStore

        return DynamoWatermarkStore(
            self.settings.aws.watermark_table,
            region=self.settings.aws.region,
            endpoint_url=self.settings.aws.endpoint_url,
        )

    @cached_property
    def secrets(self) -> SecretsProvider:
        """Secrets Manager when `source.secret_id` is set; else the credentials in settings."""
        if not self.settings.source.secret_id:
            from ingestion.secrets.settings_secrets import SettingsSecrets

            return SettingsSecrets(self.settings)
        from ingestion.secrets.secrets_manager import SecretsManagerSecrets

        return SecretsManagerSecrets(self.settings)

    @cached_property
    def source(self) -> SourceConnector:
        from ingestion.source.aws import SnowflakeSourceConnector

        return SnowflakeSourceConnector(self.settings, self.secrets)

    @cached_property
    def transform_target(self) -> TransformTarget:
        """Glue (local Spark when transform.target = "local"); the extraction views are built in Snowflake."""
        from lakeml.transform.targets.glue import GlueTarget, snowflake_views

        views = snowflake_views(self.settings.source)
        if self.settings.transform.target == "local":
            from lakeml.transform.targets.local import LocalSparkTarget

            return LocalSparkTarget(self.settings, self.lake, views)
        return GlueTarget(self.settings, self.lake, views)

    @cached_property
    def feature_store(self) -> FeatureStore:
        from ml_pipelines.feature_store.sagemaker import SageMakerFeatureStore

        return SageMakerFeatureStore(
            self._client("sagemaker"),
            self._client("sagemaker-featurestore-runtime"),
            offline_s3_uri=self.lake.uri_of("feature_store"),
            role_arn=self.settings.aws.sagemaker_role_arn,
            lake=self.lake,
            concurrency=self.settings.aws.feature_store_concurrency,
        )

    @cached_property
    def registry(self) -> ModelRegistry:
        from ml_pipelines.registry.sagemaker import SageMakerModelRegistry

        return SageMakerModelRegistry(self._client("sagemaker"), self._client("s3"), self.lake.bucket)

    @cached_property
    def deployer(self) -> Deployer:
        from ml_pipelines.serving.deploy.sagemaker import SageMakerDeployConfig, SageMakerDeployer

        return SageMakerDeployer(
            self._client("sagemaker"),
            self._client("application-autoscaling"),
            SageMakerDeployConfig(
                execution_role_arn=self.settings.aws.sagemaker_role_arn,
                kms_key_arn=self.settings.aws.sagemaker_kms_key_arn,
                subnet_ids=tuple(self.settings.aws.sagemaker_subnet_ids),
                security_group_ids=tuple(self.settings.aws.sagemaker_security_group_ids),
            ),
            s3=self._client("s3"),
        )

    @cached_property
    def pipelines(self) -> PipelineRunner:
        from ml_pipelines.pipeline import Target
        from ml_pipelines.runner.sagemaker import SageMakerPipelineRunner

        return SageMakerPipelineRunner(
            self._client("sagemaker"), Target.from_settings(self.settings).role_arn
        )

    @cached_property
    def notifier(self) -> Notifier:
        from lakeml.notify.sns import SnsNotifier

        aws = self.settings.aws
        return SnsNotifier(self._client("sns"), aws.warning_topic_arn, aws.critical_topic_arn)

    @cached_property
    def orchestrator(self) -> Orchestrator:
        from lakeml.flow.stepfunctions import StepFunctionsOrchestrator

        return StepFunctionsOrchestrator(self._client("stepfunctions"), self.settings.aws.state_machine_arn)

    @property
    def twin(self) -> SnowflakeTwin:
        raise UsageError(
            "LAKEML_ENV is 'aws', and the local Snowflake twin exists only with LAKEML_ENV=local (on aws the "
            "source is Snowflake itself). Unset LAKEML_ENV (or set it to 'local') to use it."
        )

    @property
    def glue_twin(self) -> GlueTwin:
        raise UsageError(
            "LAKEML_ENV is 'aws', and the local Glue twin exists only with LAKEML_ENV=local (on aws dbt-glue "
            "talks to AWS Glue). Unset LAKEML_ENV (or set it to 'local') to use it."
        )
