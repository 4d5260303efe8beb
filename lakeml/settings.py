"""One typed settings object for every stage, from `lakeml.toml` and `LAKEML_*` environment variables.

Precedence (highest first): constructor arguments, `LAKEML_*` env vars (nested with `__`, e.g.
`LAKEML_SOURCE__PORT`), the TOML file (`LAKEML_CONFIG` or `./lakeml.toml`), defaults. Everything local
lives under `home` so two different `LAKEML_HOME`s never share state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from lakeml.errors import ConfigError

CONFIG_ENV = "LAKEML_CONFIG"
DEFAULT_CONFIG_FILE = "lakeml.toml"


class SourceSettings(BaseModel):
    """Where the Snowflake source is. Locally `host`/`port` stay unset and the local server's are used."""

    account: str = "lakeml_local"
    user: str = "lakeml"
    password: SecretStr | None = SecretStr("lakeml-local")
    private_key_path: Path | None = None
    database: str = "RETAIL"
    schema_name: str = Field("RAW", alias="schema")
    warehouse: str | None = None
    role: str | None = None
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    protocol: Literal["http", "https"] = "https"
    secret_id: str | None = None  # aws: Secrets Manager secret with the credentials

    model_config = {"populate_by_name": True, "extra": "forbid"}


class AwsSettings(BaseModel):
    """Names of the AWS resources the aws adapters use (created by `infra/`)."""

    region: str = "eu-west-1"
    lake_bucket: str | None = None
    watermark_table: str = "lakeml-watermarks"
    endpoint_url: str | None = None  # only for emulators (moto) in tests

    model_config = {"extra": "forbid"}


class Settings(BaseSettings):
    """Effective configuration. Build it with `load_settings()`, which turns bad values into clear errors."""

    env: Literal["local", "aws"] = "local"
    home: Path = Path(".lakeml")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    source: SourceSettings = Field(default_factory=SourceSettings)
    aws: AwsSettings = Field(default_factory=AwsSettings)

    model_config = SettingsConfigDict(
        env_prefix="LAKEML_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_file()))

    # --- local state layout: every path lakeml writes locally is derived here ---
    @cached_property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def lake_root(self) -> str:
        """Root URI of the lake: a folder locally, `s3://bucket` on AWS."""
        if self.env == "aws":
            if not self.aws.lake_bucket:
                raise ConfigError(
                    "aws.lake_bucket is not set; set LAKEML_AWS__LAKE_BUCKET or [aws] lake_bucket in lakeml.toml"
                )
            return f"s3://{self.aws.lake_bucket}"
        return str(self.lake_dir)

    @property
    def run_dir(self) -> Path:
        """Pid files and server descriptors of local processes."""
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def source_dir(self) -> Path:
        """DuckDB files of the local Snowflake."""
        return self.home / "source"

    @property
    def state_db(self) -> Path:
        """SQLite file of local adapters' state (watermarks, registry, …)."""
        return self.home / "state.db"


def config_file() -> Path:
    return Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG_FILE))


def _describe(error: Mapping[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"])
    value = error.get("input")
    env_name = "LAKEML_" + "__".join(str(part).upper() for part in error["loc"])
    where = f"set {env_name} or '{key}' in {config_file()}"
    if error["type"] == "extra_forbidden":
        return f"unknown setting '{key}'; remove it ({where.split(' or ')[1]}). See `lakeml config show`."
    if error["type"] == "literal_error":
        accepted = error.get("ctx", {}).get("expected", "")
        return f"{key}={value!r} is not a valid value; use {accepted} ({where})"
    return f"{key}={value!r}: {error['msg']} ({where})"


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into one ConfigError that names every bad key."""
    path = config_file()
    if os.environ.get(CONFIG_ENV) and not path.is_file():
        raise ConfigError(f"{CONFIG_ENV}={path} does not exist; point it at a lakeml.toml or unset it")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from None
    except (ValueError, OSError) as exc:  # e.g. malformed TOML
        raise ConfigError(
            f"cannot read {path}: {exc}; fix the file or point {CONFIG_ENV} elsewhere"
        ) from None


def masked(settings: Settings) -> dict[str, Any]:
    """Settings as JSON-able data with secrets masked (SecretStr dumps as '**********')."""
    data = settings.model_dump(mode="json", by_alias=True)
    return data
