"""dbt in this process through `dbtRunner`, with lakeml's settings turned into the profile's env vars.

Why in-process: dbt-spark's `session` method opens Spark with `SparkSession.builder.getOrCreate()`, so
every dbt invocation of one Python process shares one JVM and one Hive metastore connection — the
second `dbt build` (or `docs generate`) skips the ≈ 6 s Spark start. The price: one process serves one
LAKEML_HOME (Spark's warehouse and metastore are fixed at start); `_claim_session_home` enforces it.

Every invocation writes dbt's `target/` and logs under `<home>/dbt/` (not into the repo), so two homes
(e.g. parallel tests) never share partial-parse state.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakeml.core.errors import ConfigError, LakemlError
from lakeml.core.settings import Settings
from lakeml.wiring import adapters as _interim_adapters  # TODO(issue 11)

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "dbt_project"
PROFILES_DIR = REPO_ROOT / "profiles"
SPARK_TARGETS = ("local", "glue")
SNOWFLAKE_LOCAL_TARGET = "snowflake_local"

ProgressFn = Callable[[str, int, int], None]
NodeFn = Callable[["NodeResult"], None]

_session_home: Path | None = None


@dataclass(frozen=True)
class NodeResult:
    """One finished dbt node: a model, a data test, a unit test, …"""

    name: str
    unique_id: str
    resource_type: str  # model | test | unit_test | seed | snapshot | operation
    status: str  # success | error | skipped | pass | fail | warn
    seconds: float = 0.0
    message: str = ""
    failures: int | None = None

    @property
    def is_test(self) -> bool:
        return self.resource_type in ("test", "unit_test")

    @property
    def ok(self) -> bool:
        return self.status in ("success", "pass", "warn")


@dataclass
class BuildReport:
    """What a `dbt build` did, in the shape of `lakeml transform --json`."""

    target: str
    nodes: list[NodeResult] = field(default_factory=list)
    seconds: float = 0.0
    success: bool = True

    @property
    def models(self) -> int:
        return sum(1 for n in self.nodes if n.resource_type == "model")

    @property
    def tests(self) -> int:
        return sum(1 for n in self.nodes if n.is_test)

    @property
    def passed(self) -> int:
        return sum(1 for n in self.nodes if n.is_test and n.status in ("pass", "warn", "success"))

    @property
    def failed(self) -> list[str]:
        return [n.name for n in self.nodes if n.status in ("error", "fail")]

    @property
    def warned(self) -> list[str]:
        return [n.name for n in self.nodes if n.status == "warn"]

    @property
    def skipped(self) -> list[str]:
        return [n.name for n in self.nodes if n.status == "skipped"]

    def to_json(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "tests": self.tests,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "warned": self.warned,
            "seconds": round(self.seconds, 2),
            "target": self.target,
            "summary": self.summary,
        }

    @property
    def summary(self) -> str:
        text = f"{self.models} models, {self.tests} tests ({self.passed} passed)"
        if self.failed:
            text += f"; failed: {', '.join(self.failed)}"
        if self.warned:
            text += f"; warnings: {', '.join(self.warned)}"
        if self.skipped:
            text += f"; skipped {len(self.skipped)}"
        return text


# The user's choice, read once: `_prepare` later writes LAKEML_TRANSFORM__TARGET into os.environ for the profile,
# and a `views` build (target snowflake_local) must not turn the next `build` into a Snowflake build.
_USER_TARGET = os.environ.get("LAKEML_TRANSFORM__TARGET")


def default_target(settings: Settings) -> str:
    """`local` on this machine, `glue` when LAKEML_ENV=aws; LAKEML_TRANSFORM__TARGET (set by the user) overrides both."""
    return _USER_TARGET or ("glue" if settings.env == "aws" else "local")


def dbt_environment(settings: Settings, target: str) -> dict[str, str]:
    """The env vars profiles.yml and dbt_project.yml read, from lakeml's settings."""
    env = {
        "LAKEML_HOME": str(settings.home),
        "LAKEML_LAKE_ROOT": _interim_adapters(settings).lake.uri
        if settings.env == "aws"
        else str(settings.lake_dir),
        "LAKEML_TRANSFORM__TARGET": target,
        "LAKEML_AWS__REGION": settings.aws.region,
        "DBT_TARGET_PATH": str(settings.home / "dbt" / "target"),
        "DBT_LOG_PATH": str(settings.home / "dbt" / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if settings.aws.lake_bucket:
        env["LAKEML_AWS__LAKE_BUCKET"] = settings.aws.lake_bucket
    return env


def _claim_session_home(settings: Settings) -> None:
    global _session_home
    if _session_home is not None and _session_home != settings.home:
        raise ConfigError(
            f"this process already runs Spark for LAKEML_HOME={_session_home}; Spark's metastore and "
            f"warehouse cannot switch to {settings.home} in the same process. Run a new process per home."
        )
    _session_home = settings.home


def _prepare(settings: Settings, target: str) -> None:
    if not (PROJECT_DIR / "dbt_project.yml").is_file():
        raise ConfigError(f"dbt project not found at {PROJECT_DIR}; run lakeml from its source checkout")
    os.environ.update(dbt_environment(settings, target))
    if target == "local":
        from lakeml.transform.java import ensure_java_home

        ensure_java_home()
        # Spark reads log4j2.properties from its conf dir when the JVM starts: errors only, not its noise
        os.environ.setdefault("SPARK_CONF_DIR", str(PROFILES_DIR / "spark"))
        _claim_session_home(settings)
        (settings.home / "spark").mkdir(parents=True, exist_ok=True)
        settings.lake_dir.mkdir(parents=True, exist_ok=True)


def _node_result(result: Any) -> NodeResult:
    node = result.node
    failures = getattr(result, "failures", None)
    return NodeResult(
        name=str(node.name),
        unique_id=str(node.unique_id),
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        status=str(getattr(result.status, "value", result.status)),
        seconds=float(result.execution_time or 0.0),
        message=str(result.message or ""),
        failures=int(failures) if failures is not None else None,
    )


def run_dbt(
    settings: Settings,
    args: Sequence[str],
    *,
    target: str | None = None,
    progress: ProgressFn | None = None,
    on_node: NodeFn | None = None,
) -> BuildReport:
    """Run one dbt command (e.g. ["build", "--select", "silver"]) in this process.

    `progress(task, done, total)` is called as nodes finish; `on_node` with each finished node. dbt's own
    console output is off (stdout stays clean for --json); its full log is in <home>/dbt/logs.
    """
    from dbt.cli.main import dbtRunner

    target = target or default_target(settings)
    _prepare(settings, target)
    task = f"dbt {args[0]}"
    state = {"done": 0, "total": 0}

    def callback(event: Any) -> None:
        name = event.info.name
        if name == "ConcurrencyLine":
            state["total"] = int(event.data.node_count)
            if progress:
                progress(task, 0, state["total"])
        elif name == "NodeFinished":
            state["done"] += 1
            if progress:
                progress(task, state["done"], max(state["total"], state["done"]))

    command = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROFILES_DIR),
        "--target",
        target,
        "--log-level",
        "none",
        "--log-level-file",
        "debug",
        "--no-use-colors",
    ]
    started = time.monotonic()
    outcome = dbtRunner(callbacks=[callback]).invoke(command)
    report = BuildReport(target=target, seconds=time.monotonic() - started, success=bool(outcome.success))
    results = getattr(outcome.result, "results", None)
    if outcome.exception is not None and not results:
        raise LakemlError(
            f"dbt {' '.join(args)} failed before running any node: {outcome.exception}; "
            f"details in {settings.home / 'dbt' / 'logs' / 'dbt.log'}"
        )
    for result in results or []:
        node = _node_result(result)
        report.nodes.append(node)
        if on_node:
            on_node(node)
    return report


def build(
    settings: Settings,
    *,
    select: Sequence[str] = (),
    full_refresh: bool = False,
    target: str | None = None,
    progress: ProgressFn | None = None,
    on_node: NodeFn | None = None,
) -> BuildReport:
    """`dbt build`: models, their tests and unit tests in DAG order; a failing test skips its children."""
    args = ["build"]
    for selector in select:
        args += ["--select", selector]
    if full_refresh:
        args.append("--full-refresh")
    return run_dbt(settings, args, target=target, progress=progress, on_node=on_node)


def docs_generate(settings: Settings, *, target: str | None = None) -> Path:
    """`dbt docs generate`; returns the folder holding index.html, manifest.json and catalog.json."""
    report = run_dbt(settings, ["docs", "generate"], target=target)
    out = settings.home / "dbt" / "target"
    if not report.success or not (out / "catalog.json").is_file():
        raise LakemlError(
            f"dbt docs generate failed; details in {settings.home / 'dbt' / 'logs' / 'dbt.log'}"
        )
    return out


def build_extraction_views(settings: Settings, *, progress: ProgressFn | None = None) -> BuildReport:
    """Build the Snowflake-side extraction views (models tagged `snowflake`) in the source.

    Locally: against this home's fakesnow server (started if needed), target `snowflake_local`. On AWS:
    target `snowflake` (key-pair auth from the env vars the profile names).
    """
    if settings.env == "local":
        from lakeml.twins.snowflake.server import ensure_running

        info = ensure_running(settings)
        source = settings.source
        os.environ.update(
            {
                "LAKEML_SOURCE__HOST": info.host,
                "LAKEML_SOURCE__PORT": str(info.port),
                "LAKEML_SOURCE__ACCOUNT": source.account,
                "LAKEML_SOURCE__USER": source.user,
                "LAKEML_SOURCE__PASSWORD": source.password.get_secret_value() if source.password else "",
                "LAKEML_SOURCE__DATABASE": source.database,
            }
        )
        target = SNOWFLAKE_LOCAL_TARGET
    else:
        target = "snowflake"
    return run_dbt(settings, ["build", "--select", "tag:snowflake"], target=target, progress=progress)
