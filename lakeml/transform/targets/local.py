"""Local adapter of the transform target: dbt-spark's `session` method, Spark inside this process.

Why in-process: dbt-spark opens Spark with `SparkSession.builder.getOrCreate()`, so every dbt invocation
of one Python process shares one JVM and one Hive metastore connection -- the second `dbt build` (or
`docs generate`) skips the ≈ 6 s Spark start. The price: one process serves one LAKEML_HOME (Spark's
warehouse and metastore under `<home>/spark` are fixed when the JVM starts); `prepare()` enforces it.

The extraction views are built in the local Snowflake twin (`snowflake_local`): its host and port come
from a callable the wiring passes, so transform never imports the twin.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lakeml.core import environ
from lakeml.core.errors import ConfigError
from lakeml.core.lake import QUARANTINE, LakeStorage
from lakeml.core.settings import Settings, SourceSettings
from lakeml.transform.java import ensure_java_home
from lakeml.transform.project import SPARK_CONF_DIR
from lakeml.transform.targets.port import DbtProfile, Endpoint, ViewsProfile

_session_home: Path | None = None  # the LAKEML_HOME this process's Spark serves, once started


class LocalSparkTarget:
    """Target `local`: tables under the local lake folder, Spark sized by `settings.transform`."""

    name = "local"

    def __init__(self, settings: Settings, lake: LakeStorage, views: ViewsProfile) -> None:
        self.settings = settings
        self.lake = lake
        self.views = views

    @property
    def lake_uri(self) -> str:
        return self.lake.uri

    @property
    def quarantine_uri(self) -> str:
        return self.lake.uri_of(QUARANTINE, "dbt")

    @property
    def results_dir(self) -> Path:
        return self.settings.home / "dbt" / "target"

    @property
    def logs_dir(self) -> Path:
        return self.settings.home / "dbt" / "logs"

    def profile(self) -> DbtProfile:
        knobs = self.settings.transform
        return DbtProfile(
            target=self.name,
            environment={
                "LAKEML_HOME": str(self.settings.home),
                "LAKEML_TRANSFORM__THREADS": str(knobs.threads),
                "LAKEML_TRANSFORM__SPARK_CORES": str(knobs.spark_cores),
                "LAKEML_TRANSFORM__SPARK_DRIVER_MEMORY": knobs.spark_driver_memory,
                "LAKEML_TRANSFORM__SPARK_SHUFFLE_PARTITIONS": str(knobs.spark_shuffle_partitions),
                "LAKEML_TRANSFORM__SPARK_JIT_OPTIONS": knobs.spark_jit_options,
            },
            project_vars={"lake_root": self.lake.uri},
        )

    def prepare(self) -> None:
        """Java 17+ for the JVM, Spark's quiet log config, and this home's Spark folder."""
        ensure_java_home()
        # Spark reads log4j2.properties from its conf dir when the JVM starts: errors only, not its noise
        environ.export_default("SPARK_CONF_DIR", str(SPARK_CONF_DIR))
        claim_session_home(self.settings.home)
        (self.settings.home / "spark").mkdir(parents=True, exist_ok=True)

    def extraction_views(self) -> DbtProfile:
        return self.views()


def claim_session_home(home: Path) -> None:
    """Record that this process's Spark serves `home`; ConfigError if it already serves another."""
    global _session_home
    if _session_home is not None and _session_home != home:
        raise ConfigError(
            f"this process already runs Spark for LAKEML_HOME={_session_home}; Spark's metastore and "
            f"warehouse cannot switch to {home} in the same process. Run a new process per home."
        )
    _session_home = home


def twin_views(source: SourceSettings, endpoint: Callable[[], Endpoint]) -> ViewsProfile:
    """Target `snowflake_local`: the views built in the local twin, over plain http. The endpoint is
    asked for only when the views are built; an explicit `source.host` (another emulator) wins."""

    def profile() -> DbtProfile:
        if source.host:
            host, port = source.host, source.port or 443
        else:
            found = endpoint()
            host, port = found.host, found.port
        return DbtProfile(
            target="snowflake_local",
            environment={
                "LAKEML_SOURCE__HOST": host,
                "LAKEML_SOURCE__PORT": str(port),
                "LAKEML_SOURCE__ACCOUNT": source.account,
                "LAKEML_SOURCE__USER": source.user,
                "LAKEML_SOURCE__PASSWORD": source.password.get_secret_value() if source.password else "",
                "LAKEML_SOURCE__DATABASE": source.database,
            },
        )

    return profile
