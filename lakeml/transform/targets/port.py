"""The transform target port: where dbt runs bronze -> silver -> gold, and what it must be handed to run.

dbt reads its connection from `profiles/profiles.yml`, whose every value is an `env_var()` named after a
lakeml setting (`LAKEML_TRANSFORM__THREADS`, `LAKEML_AWS__GLUE_ROLE_ARN`, …), plus project variables
(`lake_root`). A target turns lakeml's settings into exactly those values (`DbtProfile`); the runner sets
them only around the dbt call, so they never leak into a later `load_settings()`. Two adapters, chosen
by `lakeml.wiring`: `local.LocalSparkTarget` (Spark in this process) and `glue.GlueTarget` (AWS Glue
interactive sessions through dbt-glue). Each also knows the target that builds the Snowflake extraction
views (the local twin, or Snowflake itself). `tests/contract/test_transform_target.py` runs the same cases
against both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lakeml.core.lake import LakeStorage


@dataclass(frozen=True)
class DbtProfile:
    """One output of profiles.yml and the values lakeml hands dbt for it."""

    target: str  # the output's name: local | glue | snowflake | snowflake_local
    environment: Mapping[str, str]  # what its env_var() calls read; set only for the dbt call
    project_vars: Mapping[str, str] = field(default_factory=dict)  # dbt --vars (lake_root)


# The extraction views' target, resolved when the views are built (locally that may start the twin).
ViewsProfile = Callable[[], DbtProfile]


class Endpoint(Protocol):
    """Where a local Snowflake emulator answers (the twin's server info has these attributes)."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...


class TransformTarget(Protocol):
    """The engine dbt builds the lake's models with, over one lake."""

    @property
    def name(self) -> str:
        """The dbt target of the lake models (`local` or `glue`)."""
        ...

    @property
    def lake(self) -> LakeStorage:
        """The lake dbt's tables live in; each build's run results are published into it (`runs.py`)."""
        ...

    @property
    def lake_uri(self) -> str:
        """The lake dbt's tables live in (the lake storage adapter's `uri`)."""
        ...

    @property
    def quarantine_uri(self) -> str:
        """Where failing rows of dbt's data tests are stored (one table per test)."""
        ...

    @property
    def results_dir(self) -> Path:
        """dbt's target path: run_results.json, manifest.json, catalog.json and the docs site."""
        ...

    @property
    def logs_dir(self) -> Path:
        """dbt's log folder (`dbt.log`, the full debug log)."""
        ...

    def profile(self) -> DbtProfile:
        """The lake models' profile values; ConfigError naming the setting when one is missing."""
        ...

    def prepare(self) -> None:
        """Whatever must hold before dbt opens this target in this process (e.g. a Java runtime)."""
        ...

    def extraction_views(self) -> DbtProfile:
        """The profile values of the target that builds the Snowflake extraction views."""
        ...
