"""What the wiring hands the app layer: one object with a property per port.

The types are only imported for type checking, so building `Adapters` imports no adapter until a port
is used (the CLI starts in well under a second)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ingestion.secrets.port import SecretsProvider
    from ingestion.source.port import SourceConnector
    from ingestion.watermarks.port import WatermarkStore
    from lakeml.core.lake import LakeHistory, LakeStorage
    from lakeml.core.settings import Settings
    from lakeml.flow.port import Orchestrator
    from lakeml.notify.port import Notifier
    from lakeml.transform.targets.port import TransformTarget
    from lakeml.twins.glue.twin import GlueTwin
    from lakeml.twins.snowflake.twin import SnowflakeTwin
    from ml_pipelines.feature_store import FeatureStore
    from ml_pipelines.registry import ModelRegistry
    from ml_pipelines.runner.port import PipelineRunner
    from ml_pipelines.serving.deploy import Deployer


class Adapters(Protocol):
    settings: Settings

    @property
    def lake(self) -> LakeStorage: ...

    @property
    def lake_history(self) -> LakeHistory: ...

    @property
    def watermarks(self) -> WatermarkStore: ...

    @property
    def secrets(self) -> SecretsProvider: ...

    @property
    def source(self) -> SourceConnector: ...

    @property
    def transform_target(self) -> TransformTarget: ...

    @property
    def feature_store(self) -> FeatureStore: ...

    @property
    def registry(self) -> ModelRegistry: ...

    @property
    def deployer(self) -> Deployer: ...

    @property
    def pipelines(self) -> PipelineRunner: ...

    @property
    def notifier(self) -> Notifier: ...

    @property
    def orchestrator(self) -> Orchestrator: ...

    @property
    def twin(self) -> SnowflakeTwin:
        """The local Snowflake twin (start/stop/seed); on AWS there is none and this raises UsageError."""
        ...

    @property
    def glue_twin(self) -> GlueTwin:
        """The local Glue twin (dbt-glue's sessions and catalog); on AWS there is none: UsageError."""
        ...
