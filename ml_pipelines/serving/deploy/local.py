"""Local adapter of the deployer: the local endpoint's config file points at the version's model.

The model is loaded once here first, so a missing or broken artefact fails the deploy instead of reaching
the server; the config is then replaced atomically, and a running `lakeml serve` swaps the model in
without dropping requests (`ml_pipelines.serving.server`). This is the local twin of a SageMaker
EndpointConfig + UpdateEndpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lakeml.core.errors import LakemlError
from ml_pipelines.serving import endpoint as endpoint_config
from ml_pipelines.serving.deploy.port import (
    DeployResult,
    EndpointVariant,
    VersionLike,
    deploy_failed,
    parse_label,
    version_label,
)
from ml_pipelines.serving.model import load_model

if TYPE_CHECKING:
    from lakeml.core.lake import LakeStorage

HISTORY_KEPT = 20


class LocalDeployer:
    """Endpoints are folders of `endpoints_dir` (`<home>/endpoints`); model URIs resolve in `lake`."""

    deploys_on_approval = False  # `lakeml models approve` runs the approval hook itself

    def __init__(self, lake: LakeStorage, endpoints_dir: Path) -> None:
        self.lake = lake
        self.endpoints_dir = endpoints_dir

    def config_file(self, endpoint: str) -> Path:
        return endpoint_config.config_file(self.endpoints_dir, endpoint)

    def deploy(self, version: VersionLike, endpoint: str) -> DeployResult:
        try:
            model_path = Path(self.lake.resolve(version.model_data_url))
            load_model(model_path, version_label(version))
        except (LakemlError, ValueError) as exc:
            raise deploy_failed(version, endpoint, exc) from None
        path = self.config_file(endpoint)
        previous = endpoint_config.read(path) if path.is_file() else None
        history = (
            [*previous.history, *({"version": v.version, "model": v.model} for v in previous.variants)]
            if previous
            else []
        )
        config = endpoint_config.EndpointConfig(
            endpoint=endpoint,
            variants=[
                endpoint_config.Variant(
                    name="AllTraffic", model=str(model_path), version=version_label(version)
                )
            ],
            data_capture=previous.data_capture if previous else endpoint_config.DataCapture(),
            history=history[-HISTORY_KEPT:],
        )
        endpoint_config.write(path, config)
        return DeployResult(
            endpoint,
            version_label(version),
            "updated" if previous else "created",
            {"config": str(path), "model": str(model_path)},
        )

    def endpoint_config(self, endpoint: str) -> str | None:
        path = self.config_file(endpoint)
        return str(path) if path.is_file() else None

    def serving(self, endpoint: str) -> tuple[str, int] | None:
        path = self.config_file(endpoint)
        if not path.is_file():
            return None
        return parse_label(endpoint_config.read(path).variants[0].version)

    def variants(self, endpoint: str) -> list[EndpointVariant]:
        """The config file's variants, as the running server routes by them."""
        path = self.config_file(endpoint)
        if not path.is_file():
            return []
        return [
            EndpointVariant(name=v.name, version=v.version, weight=v.weight)
            for v in endpoint_config.read(path).variants
        ]
