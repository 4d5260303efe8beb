"""One typed settings object for every stage, from `lakeml.toml` and `LAKEML_*` environment variables.

Precedence (highest first): constructor arguments, `LAKEML_*` env vars (nested with `__`, e.g.
`LAKEML_SOURCE__PORT`), the TOML file (`LAKEML_CONFIG` or `./lakeml.toml`), defaults. Everything local
lives under `home` so two different `LAKEML_HOME`s never share state.

Every name lakeml reads is a field here: a `LAKEML_*` variable that is not one is refused with the
closest valid name, so a typo or a name from an older release cannot silently fall back to a default.
Nothing in this module decides between local and AWS: `lakeml.wiring` does, once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from lakeml.core import environ
from lakeml.core.errors import ConfigError
from lakeml.core.renamed import RENAMED

CONFIG_ENV = "LAKEML_CONFIG"
DEFAULT_CONFIG_FILE = "lakeml.toml"
ENV_PREFIX = "LAKEML_"
# Variables of the test harness, never read by lakeml itself.
TEST_PREFIX = "LAKEML_TEST_"

_ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$"
_ACCOUNT = r"^\d{12}$"


class SourceSettings(BaseModel):
    """Where the Snowflake source is. Locally `host`/`port` stay unset and the local twin's are used."""

    account: str = Field("lakeml_local", description="Snowflake account identifier")
    user: str = Field("lakeml", description="Snowflake user ingestion connects as")
    password: SecretStr | None = Field(SecretStr("lakeml-local"), description="password (local twin)")
    private_key_path: Path | None = Field(None, description="unencrypted PEM key for key-pair auth")
    database: str = Field("RETAIL", description="database holding RAW and EXTRACT")
    schema_name: str = Field("RAW", alias="schema", description="default schema of the connection")
    warehouse: str | None = Field(None, description="Snowflake warehouse")
    role: str | None = Field(None, description="Snowflake role")
    host: str | None = Field(None, description="explicit host (emulators); unset: Snowflake's own")
    port: int | None = Field(None, ge=1, le=65535, description="explicit port, with host")
    protocol: Literal["http", "https"] = Field("https", description="with host: http for emulators")
    secret_id: str | None = Field(
        None, description="aws: Secrets Manager secret (name or ARN) with the Snowflake credentials"
    )

    model_config = {"populate_by_name": True, "extra": "forbid"}


class AwsSettings(BaseModel):
    """Names and ARNs of the AWS resources the AWS adapters use: `terraform output lakeml` prints them."""

    region: str = Field(
        "eu-west-1", pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$", description="AWS region"
    )
    account_id: str | None = Field(None, pattern=_ACCOUNT, description="12-digit account id of the estate")
    endpoint_url: str | None = Field(
        None, pattern=r"^https?://", description="one endpoint for every AWS service: emulators (moto) only"
    )
    lake_bucket: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="S3 bucket of the lake"
    )
    watermark_table: str = Field(
        "lakeml-watermarks",
        pattern=r"^[A-Za-z0-9_.-]{3,255}$",
        description="DynamoDB table of ingestion watermarks",
    )
    sagemaker_role_arn: str | None = Field(
        None, pattern=_ROLE_ARN, description="SageMaker execution role (pipeline, jobs, endpoints, features)"
    )
    glue_role_arn: str | None = Field(None, pattern=_ROLE_ARN, description="role dbt-glue sessions run as")
    feature_store_concurrency: int = Field(
        8, ge=1, le=10, description="PutRecord calls in flight ingesting features (a client pools 10)"
    )
    image_uri: str | None = Field(
        None,
        pattern=r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$",
        description="ECR URI of the lakeml image (processing, training, serving)",
    )
    deploy_function_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$",
        description="Lambda the pipeline's DeployStaging step invokes",
    )
    state_machine_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]+$",
        description="Step Functions state machine of the daily flow (`lakeml run` starts it on aws)",
    )
    sagemaker_kms_key_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/-]+$",
        description="CMK of SageMaker job volumes and outputs and of endpoint configs (unset: AWS keys)",
    )
    sagemaker_subnet_ids: list[str] = Field(
        default_factory=list,
        description="private subnets of SageMaker jobs and models, a JSON list (empty: no VPC)",
    )
    sagemaker_security_group_ids: list[str] = Field(
        default_factory=list,
        description="security groups of SageMaker jobs and models in sagemaker_subnet_ids, a JSON list",
    )
    warning_topic_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$", description="SNS topic for warnings"
    )
    critical_topic_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$", description="SNS topic for failures"
    )

    model_config = {"extra": "forbid"}

    @model_validator(mode="after")
    def _subnets_with_security_groups(self) -> AwsSettings:
        if bool(self.sagemaker_subnet_ids) != bool(self.sagemaker_security_group_ids):
            raise ValueError(
                "aws.sagemaker_subnet_ids and aws.sagemaker_security_group_ids go together: set both "
                "(LAKEML_AWS__SAGEMAKER_SUBNET_IDS, LAKEML_AWS__SAGEMAKER_SECURITY_GROUP_IDS; "
                "`terraform output lakeml` prints them) or neither"
            )
        return self


class IngestSettings(BaseModel):
    """Ingestion's knobs that are not per table (those live in the sources file)."""

    sources: Path | None = Field(None, description="sources file; unset: the packaged ingestion/sources.yml")
    fault_at: str | None = Field(
        None,
        description="test only: crash ingestion at a write boundary, '<boundary>:<n>' (docs/ingestion.md)",
    )

    model_config = {"extra": "forbid"}


class TransformSettings(BaseModel):
    """dbt: which target, and the engine's size. Exported to dbt's profile as these same variables."""

    target: Literal["local", "glue"] | None = Field(
        None, description="dbt target for bronze->gold; unset: local Spark locally, glue on aws"
    )
    threads: int = Field(2, ge=1, le=64, description="dbt threads on local Spark")
    spark_cores: int = Field(2, ge=1, le=256, description="local[N] cores of the local Spark")
    spark_driver_memory: str = Field("2g", pattern=r"^\d+[kmgt]$", description="local Spark driver memory")
    spark_shuffle_partitions: int = Field(4, ge=1, description="spark.sql.shuffle.partitions locally")
    spark_jit_options: str = Field(
        "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m",
        description="JVM JIT flags of the local Spark ('' brings back the C2 compiler)",
    )
    glue_workers: int = Field(2, ge=2, description="workers of a Glue interactive session")
    glue_worker_type: str = Field("G.1X", pattern=r"^(G\.\d+X|Z\.2X)$", description="Glue worker type")

    model_config = {"extra": "forbid"}


class QualitySettings(BaseModel):
    """Thresholds of the data-quality monitor (`lakeml.monitor`): past one, the daily flow stops before
    training. A Step Functions execution may override them per run (the quality Lambda's `thresholds`)."""

    max_failed_tables: int = Field(
        0, ge=0, description="configured tables that may fail ingestion or have no committed run"
    )
    max_quarantine_rate: float = Field(
        0.05, ge=0, le=1, description="quarantined / extracted rows over the window's runs, 0..1"
    )
    max_watermark_lag_hours: float | None = Field(
        None,
        gt=0,
        description="largest allowed age of a table's watermark; unset: not checked (demo data is historical)",
    )
    max_dbt_failures: int = Field(0, ge=0, description="dbt models/tests that may error or fail")
    require_dbt_run: bool = Field(
        True, description="fail when no dbt run results are published (runs/dbt/latest.json)"
    )
    window_hours: float = Field(
        24, gt=0, description="runs committed this many hours before the check count for quarantine"
    )

    model_config = {"extra": "forbid"}


class RunnerSettings(BaseModel):
    """How the local pipeline runner starts the jobs of an execution (training, tuning trials, processing)."""

    job_processes: Literal["warm", "fresh"] = Field(
        "warm", description="warm: reused worker processes that import once; fresh: a new process per job"
    )
    workers: int | None = Field(None, ge=1, le=64, description="warm worker pool size; unset: the cores")
    model_config = {"extra": "forbid"}


class ContainerSettings(BaseModel):
    """What the one image knows about itself: set in the Dockerfile, or by the local runner per job."""

    opt_ml: Path = Field(Path("/opt/ml"), description="SageMaker's container root (the local runner maps it)")
    git_sha: str | None = Field(None, description="commit the image was built from (baked in at build)")
    model_version: str | None = Field(None, description="model version label an endpoint container serves")

    model_config = {"extra": "forbid"}


class Settings(BaseSettings):
    """Effective configuration. Build it with `load_settings()`, which turns bad values into clear errors."""

    env: Literal["local", "aws"] = Field("local", description="which adapters: local twins or AWS")
    home: Path = Field(Path(".lakeml"), description="root of all local state")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    source: SourceSettings = Field(default_factory=SourceSettings)
    aws: AwsSettings = Field(default_factory=AwsSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    transform: TransformSettings = Field(default_factory=TransformSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    container: ContainerSettings = Field(default_factory=ContainerSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
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
        """The lake folder of the local lake adapter."""
        return self.home / "lake"

    @property
    def run_dir(self) -> Path:
        """Pid files and server descriptors of local processes."""
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def source_dir(self) -> Path:
        """DuckDB files of the local Snowflake twin."""
        return self.home / "source"

    @property
    def state_db(self) -> Path:
        """SQLite file of local adapters' state (watermarks, registry, …)."""
        return self.home / "state.db"


def config_file() -> Path:
    return Path(environ.config_path_variable(CONFIG_ENV) or DEFAULT_CONFIG_FILE)


# --- the reference: every key, its variable, type, default and meaning --------------------------------


def _walk(model: type[BaseModel], prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, info in model.model_fields.items():
        key = info.alias if (info.alias and prefix) else name
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _walk(annotation, (*prefix, key))
        else:
            yield (*prefix, key), info


def env_name(path: Sequence[object]) -> str:
    """The environment variable of a setting, from its path (`("transform", "target")` ->
    LAKEML_TRANSFORM__TARGET): the one place the prefix and the nesting delimiter are spelled."""
    return ENV_PREFIX + "__".join(str(part).upper() for part in path)


def environment_of(values: Mapping[str, str]) -> dict[str, str]:
    """Settings by dotted key as the environment variables a process of ours reads (a container, a
    Lambda); a key that is not a setting is refused, so a renamed setting cannot leave a stale name."""
    keys = {".".join(path) for path, _ in _walk(Settings, ())}
    unknown = sorted(set(values) - keys)
    if unknown:
        raise ValueError(f"not settings: {', '.join(unknown)} (see `lakeml config show`)")
    return {env_name(key.split(".")): value for key, value in values.items()}


def reference() -> list[dict[str, Any]]:
    """One row per setting: dotted key, environment variable, type, default, description."""
    rows = []
    for path, info in _walk(Settings, ()):
        default = None if info.default_factory is not None else info.default
        if isinstance(default, SecretStr):
            default = "**********"
        rows.append(
            {
                "key": ".".join(path),
                "env": env_name(path),
                "type": _type_name(info.annotation),
                "default": str(default) if isinstance(default, Path) else default,
                "description": info.description or "",
            }
        )
    return rows


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    return text or str(annotation).replace("typing.", "").replace("pathlib.", "")


def environment_names() -> set[str]:
    """Every LAKEML_* variable lakeml reads: one per setting, each section as a whole, and LAKEML_CONFIG."""
    names = {row["env"] for row in reference()} | {CONFIG_ENV}
    names |= {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    return names


def _unknown_variables() -> list[str]:
    known = environment_names()
    problems = []
    for name in sorted(environ.prefixed(ENV_PREFIX)):
        if name in known or name.startswith(TEST_PREFIX):
            continue
        if name in RENAMED:
            problems.append(f"{name} was renamed {RENAMED[name]}; set that instead")
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f"did you mean {close[0]}?" if close else "see `lakeml config show` for the settings"
        problems.append(f"{name} is not a lakeml setting ({hint})")
    return problems


def _describe(error: Mapping[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"])
    value = error.get("input")
    variable = env_name(error["loc"])
    shown = "'**********'" if "password" in key or "secret" in key else repr(value)
    where = f"set {variable} or '{key}' in {config_file()}"
    if error["type"] == "extra_forbidden":
        return f"unknown setting '{key}'; remove it ({where.split(' or ')[1]}). See `lakeml config show`."
    if error["type"] == "literal_error":
        accepted = error.get("ctx", {}).get("expected", "")
        return f"{key}={shown} is not a valid value; use {accepted} ({where})"
    if error["type"] == "string_pattern_mismatch":
        return f"{key}={shown} is not well-formed (expected {error['ctx']['pattern']}) ({where})"
    return f"{key}={shown}: {error['msg']} ({where})"


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into one ConfigError that names every bad key."""
    path = config_file()
    if environ.config_path_variable(CONFIG_ENV) and not path.is_file():
        raise ConfigError(f"{CONFIG_ENV}={path} does not exist; point it at a lakeml.toml or unset it")
    unknown = _unknown_variables()
    if unknown:
        raise ConfigError("; ".join(unknown))
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
    return settings.model_dump(mode="json", by_alias=True)
