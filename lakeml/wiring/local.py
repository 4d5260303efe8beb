"""Local twins of every port (LAKEML_ENV=local): folders, SQLite, fakesnow, local Spark, the local runner."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from lakeml.core.lake.local import LocalLake, LocalLakeHistory
from lakeml.core.settings import Settings

if TYPE_CHECKING:
    from ingestion.secrets.port import SecretsProvider
    from ingestion.source.port import SourceConnector
    from ingestion.watermarks.port import WatermarkStore
    from lakeml.flow.local import LocalOrchestrator
    from lakeml.notify.port import Notifier
    from lakeml.transform.targets.port import TransformTarget
    from lakeml.twins.glue.twin import GlueTwin
    from lakeml.twins.snowflake.twin import SnowflakeTwin
    from ml_pipelines.feature_store import FeatureStore
    from ml_pipelines.registry import ModelRegistry
    from ml_pipelines.runner.port import PipelineRunner
    from ml_pipelines.serving.deploy import Deployer


class LocalAdapters:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def lake(self) -> LocalLake:
        return LocalLake.create(self.settings.lake_dir, [self.settings.aws.lake_bucket])

    @property
    def lake_history(self) -> LocalLakeHistory:
        return LocalLakeHistory(self.settings.lake_dir)

    @cached_property
    def watermarks(self) -> WatermarkStore:
        from ingestion.watermarks.sqlite import SqliteWatermarkStore

        return SqliteWatermarkStore(self.settings.state_db)

    @cached_property
    def secrets(self) -> SecretsProvider:
        from ingestion.secrets.settings_secrets import SettingsSecrets

        return SettingsSecrets(self.settings)

    @cached_property
    def source(self) -> SourceConnector:
        """The fakesnow twin of this home, started on first connection (not when the port is built)."""
        from ingestion.source.local import LocalSourceConnector
        from lakeml.twins.snowflake.server import ensure_running

        return LocalSourceConnector(self.settings, endpoint=lambda: ensure_running(self.settings))

    @cached_property
    def transform_target(self) -> TransformTarget:
        """Local Spark in this process; with transform.target = "glue", dbt-glue against this home's local
        Glue twin (started when dbt runs). The extraction views are built in this home's Snowflake twin,
        started only when they are built."""
        from lakeml.transform.targets.local import LocalSparkTarget, twin_views

        views = twin_views(self.settings.source, lambda: self.twin.ensure_running())
        if self.settings.transform.target == "glue":
            from lakeml.transform.targets.glue import GlueTarget

            return GlueTarget(self.settings, self.lake, views, twin=lambda: self.glue_twin.ensure_running())
        return LocalSparkTarget(self.settings, self.lake, views)

    @cached_property
    def glue_twin(self) -> GlueTwin:
        """The local Glue twin of this home (dbt-glue's sessions and Data Catalog over one local Spark)."""
        from lakeml.twins.glue.twin import GlueTwin

        return GlueTwin(self.settings)

    @cached_property
    def feature_store(self) -> FeatureStore:
        from ml_pipelines.feature_store.local import LocalFeatureStore

        return LocalFeatureStore(self.lake, self.settings.state_db)

    @cached_property
    def registry(self) -> ModelRegistry:
        from ml_pipelines.registry.sqlite import SqliteModelRegistry

        return SqliteModelRegistry(self.settings.state_db, region=self.settings.aws.region)

    @cached_property
    def deployer(self) -> Deployer:
        from ml_pipelines.serving.deploy.local import LocalDeployer
        from ml_pipelines.serving.endpoint import endpoints_dir

        return LocalDeployer(self.lake, endpoints_dir(self.settings))

    @cached_property
    def pipelines(self) -> PipelineRunner:
        from ml_pipelines.runner.local import LocalPipelineRunner

        return LocalPipelineRunner(self.settings, self.registry)

    @cached_property
    def notifier(self) -> Notifier:
        from lakeml.notify.local import LocalNotifier

        return LocalNotifier(self.settings.state_db)

    @cached_property
    def orchestrator(self) -> LocalOrchestrator:
        from lakeml.flow.local import LocalOrchestrator

        return LocalOrchestrator(self.settings, self)

    @cached_property
    def twin(self) -> SnowflakeTwin:
        from lakeml.twins.snowflake.twin import SnowflakeTwin

        return SnowflakeTwin(self.settings)
