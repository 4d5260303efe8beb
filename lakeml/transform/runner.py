"""dbt in this process through `dbtRunner`, on a transform target (`lakeml.transform.targets`).

The target says which profiles.yml output to use and hands over the values its `env_var()` calls and the
project's variables read; they are set only for the dbt call (`lakeml.core.environ.scoped`) and passed
as `--vars`, so nothing lingers in the process environment for a later `load_settings()` or dbt call.
Every invocation writes dbt's `target/` and logs under the target's folders (`<home>/dbt/`, not the
repo), so two homes (e.g. parallel tests) never share partial-parse state.

Bronze visibility: dbt's bronze relations show the runs ingestion has published as visible; the app
layer (CLI, flow) publishes them before it calls `build` (see `lakeml.cli.transform`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lakeml.core import environ
from lakeml.core.errors import ConfigError, LakemlError
from lakeml.core.lake.runs import RUN_RESULTS
from lakeml.transform import unit_tests
from lakeml.transform.project import PROFILES_DIR, PROJECT_DIR
from lakeml.transform.report import BuildReport, NodeResult, node_result
from lakeml.transform.runs import publish_run_results, visible_bronze
from lakeml.transform.targets.port import DbtProfile, TransformTarget

ProgressFn = Callable[[str, int, int], None]
NodeFn = Callable[[NodeResult], None]

__all__ = [
    "PROFILES_DIR",
    "PROJECT_DIR",
    "build",
    "build_extraction_views",
    "dbt_environment",
    "docs_generate",
    "run_dbt",
]


def dbt_environment(target: TransformTarget, profile: DbtProfile) -> dict[str, str]:
    """Every variable set around a dbt call on `target` with `profile`: the profile's, plus where dbt
    writes its artefacts and log."""
    return {
        **profile.environment,
        "DBT_TARGET_PATH": str(target.results_dir),
        "DBT_LOG_PATH": str(target.logs_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(
    target: TransformTarget,
    args: Sequence[str],
    *,
    progress: ProgressFn | None = None,
    on_node: NodeFn | None = None,
) -> BuildReport:
    """Run one dbt command on the target's lake models (e.g. ["build", "--select", "silver"]).

    `progress(task, done, total)` is called as nodes finish; `on_node` with each finished node. dbt's own
    console output is off (stdout stays clean for --json); its full log is in the target's logs_dir.
    """
    profile = target.profile()
    _check_project()
    target.prepare()
    return _invoke(target, profile, args, progress=progress, on_node=on_node)


def build(
    target: TransformTarget,
    *,
    select: Sequence[str] = (),
    full_refresh: bool = False,
    progress: ProgressFn | None = None,
    on_node: NodeFn | None = None,
) -> BuildReport:
    """`dbt build`: models, their tests and unit tests in DAG order; a failing test skips its children.

    With `select`, a test runs only when every model it reads is selected (dbt's `cautious` indirect
    selection): `--select silver` builds silver and its tests, never a gold test against a gold table
    this build did not make.

    Without `select` or `full_refresh`, unit tests are left out while the code they test is the code
    they last passed on (`lakeml.transform.unit_tests`; the report says `unit_tests_skipped`).

    dbt's run_results.json is then published to the target's lake with the bronze visibility index dbt
    read (`lakeml.transform.runs`), and the report carries its invocation id."""
    args = ["build"]
    for selector in select:
        args += ["--select", selector]
    if select:
        args += ["--indirect-selection", "cautious"]
    if full_refresh:
        args.append("--full-refresh")
    code = unit_tests.fingerprint(target.name)
    skip_units = (
        not select and not full_refresh and unit_tests.passed_before(target.results_dir, target.name, code)
    )
    if skip_units:
        args += ["--exclude-resource-type", "unit_test"]
    bronze = visible_bronze(target.lake)
    (target.results_dir / RUN_RESULTS).unlink(missing_ok=True)  # never publish a previous build's
    report = run_dbt(target, args, progress=progress, on_node=on_node)
    published = publish_run_results(
        target.lake, target.results_dir, target=report.target, success=report.success, bronze_runs=bronze
    )
    if published:
        report.invocation_id, report.run_results = published.invocation_id, published.run_results
    report.unit_tests_skipped = skip_units
    unit_tests.remember(target.results_dir, target.name, code, report)
    return report


def docs_generate(target: TransformTarget) -> Path:
    """`dbt docs generate`; returns the folder holding index.html, manifest.json and catalog.json."""
    report = run_dbt(target, ["docs", "generate"])
    out = target.results_dir
    if not report.success or not (out / "catalog.json").is_file():
        raise LakemlError(f"dbt docs generate failed; details in {target.logs_dir / 'dbt.log'}")
    return out


def build_extraction_views(target: TransformTarget, *, progress: ProgressFn | None = None) -> BuildReport:
    """Build the Snowflake-side extraction views (models tagged `snowflake`) in the source: the local
    twin (`snowflake_local`) or Snowflake itself (`snowflake`), as the target's `extraction_views()` says."""
    profile = target.extraction_views()
    _check_project()
    return _invoke(target, profile, ["build", "--select", "tag:snowflake"], progress=progress)


def _check_project() -> None:
    if not (PROJECT_DIR / "dbt_project.yml").is_file():
        raise ConfigError(f"dbt project not found at {PROJECT_DIR}; run lakeml from its source checkout")


def _invoke(
    target: TransformTarget,
    profile: DbtProfile,
    args: Sequence[str],
    *,
    progress: ProgressFn | None = None,
    on_node: NodeFn | None = None,
) -> BuildReport:
    from dbt.cli.main import dbtRunner

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
        profile.target,
        "--log-level",
        "none",
        "--log-level-file",
        "debug",
        "--no-use-colors",
    ]
    if profile.project_vars:
        command += ["--vars", json.dumps(dict(profile.project_vars), sort_keys=True)]
    started = time.monotonic()
    with environ.scoped(dbt_environment(target, profile)):
        outcome = dbtRunner(callbacks=[callback]).invoke(command)
    report = BuildReport(
        target=profile.target, seconds=time.monotonic() - started, success=bool(outcome.success)
    )
    results = getattr(outcome.result, "results", None)
    if outcome.exception is not None and not results:
        raise LakemlError(
            f"dbt {' '.join(args)} failed before running any node: {outcome.exception}; "
            f"details in {target.logs_dir / 'dbt.log'}"
        )
    for result in results or []:
        node = node_result(result)
        report.nodes.append(node)
        if on_node:
            on_node(node)
    return report
