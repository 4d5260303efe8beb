"""The local endpoint's configuration: production variants (model, version, weight) and data capture.

It is one JSON file per endpoint under `<home>/endpoints/<name>/endpoint.json`, replaced atomically on
every deploy; the running server watches it and swaps models without dropping requests. This is the
local twin of a SageMaker EndpointConfig + UpdateEndpoint.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from lakeml.core.errors import UsageError
from lakeml.core.settings import Settings

DEFAULT_ENDPOINT = "lakeml-churn"


class Variant(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9\-_]{1,63}$")
    model: str  # model dir or model.tar.gz
    version: str  # e.g. "lakeml-churn/3"
    weight: float = Field(1.0, ge=0)


class DataCapture(BaseModel):
    enabled: bool = False
    sampling_percentage: float = Field(10.0, ge=0, le=100)
    destination: str | None = None  # folder; default <lake>/capture/<endpoint>


class EndpointConfig(BaseModel):
    endpoint: str = DEFAULT_ENDPOINT
    variants: list[Variant]
    data_capture: DataCapture = Field(default_factory=DataCapture)
    updated_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    history: list[dict[str, str]] = Field(default_factory=list)  # previous deployments, newest last

    @field_validator("variants")
    @classmethod
    def _variants(cls, variants: list[Variant]) -> list[Variant]:
        if not variants:
            raise ValueError("an endpoint needs at least one variant")
        if len({v.name for v in variants}) != len(variants):
            raise ValueError("variant names must be unique")
        if sum(v.weight for v in variants) <= 0:
            raise ValueError("at least one variant needs a weight > 0")
        return variants


def config_file(endpoints_dir: Path, endpoint: str = DEFAULT_ENDPOINT) -> Path:
    """The config of `endpoint` among the local endpoints in `endpoints_dir`."""
    return endpoints_dir / endpoint / "endpoint.json"


def endpoints_dir(settings: Settings) -> Path:
    """Where local endpoints live: `<home>/endpoints`."""
    return settings.home / "endpoints"


def config_path(settings: Settings, endpoint: str = DEFAULT_ENDPOINT) -> Path:
    return config_file(endpoints_dir(settings), endpoint)


def read(path: Path) -> EndpointConfig:
    if not path.is_file():
        raise UsageError(
            f"endpoint config {path} does not exist; deploy a model first (`lakeml models approve …`)"
        )
    return EndpointConfig.model_validate_json(path.read_text())


def write(path: Path, config: EndpointConfig) -> None:
    """Replace the config atomically: a watching server sees the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(config.model_dump_json(indent=2))
    os.replace(tmp, path)
