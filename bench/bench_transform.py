"""dbt: full build vs a one-day incremental build, wall seconds, at default scale and at 10x, on the
spark-session target (`local`) and beside it on the glue target against the local Glue twin.

For each scale, in a fresh LAKEML_HOME: seed the local source (`lakeml source seed --customers N`),
build the extraction views (`lakeml transform --snowflake`), ingest (`lakeml ingest`), then time
1. full         - `lakeml --json transform --full-refresh` (every model and test from all of bronze);
2. incremental  - after `lakeml source advance --days 1` and `lakeml ingest`: `lakeml --json transform`
                  (silver rewrites the months the new runs touched; gold adds new snapshots only).
The same two builds run on `--target glue` in a second home holding a copy of the same bronze (the twin's
Spark writes that home's lake; its start is in the full build's wall time, like Spark's start in the
local one). Wall seconds include the process start, dbt's parse and Spark's start (≈ the cost a user
sees); `dbt s` is dbt's own elapsed time. The claim (DESIGN §6): incremental is a small fraction of full;
targets: full ≤ 45 s at default scale on 2 cores, incremental ≤ 50 % of full at 10x (local target).

Env: BENCH_TRANSFORM_SCALES (default "5000,50000" customers), BENCH_TRANSFORM_DAYS (default 450),
BENCH_TRANSFORM_TARGETS (default "local,glue").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import print_table, write_result

REPO = Path(__file__).resolve().parents[1]


def _lakeml(home: Path, config: Path, *args: str) -> tuple[dict[str, Any], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEML_", "DBT_"))}
    env.update(LAKEML_HOME=str(home), LAKEML_CONFIG=str(config))
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "lakeml.cli.main", "--json", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"lakeml {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout), seconds


def _stop(home: Path, config: Path, *command: str) -> None:
    subprocess.run(
        [sys.executable, "-c", *command],
        env={**os.environ, "LAKEML_HOME": str(home), "LAKEML_CONFIG": str(config)},
        capture_output=True,
        cwd=REPO,
    )


STOP_GLUE_TWIN = (
    "from lakeml.core.settings import load_settings; from lakeml.twins.glue import lifecycle; "
    "lifecycle.stop(load_settings())"
)


def measure(customers: int, days: int, targets: list[str]) -> list[dict[str, Any]]:
    builds: dict[str, list[tuple[str, dict[str, Any], float]]] = {t: [] for t in targets}
    with tempfile.TemporaryDirectory(prefix="lakeml-bench-transform-") as tmp:
        home, config = Path(tmp) / "home", Path(tmp) / "lakeml.toml"
        twin_home = Path(tmp) / "glue-home"
        config.write_text("# bench: defaults\n")

        def copy_bronze() -> None:  # the glue home reads exactly the local home's bronze
            shutil.copytree(home / "lake" / "bronze", twin_home / "lake" / "bronze", dirs_exist_ok=True)

        try:
            seeded, _ = _lakeml(
                home, config, "source", "seed", "--customers", str(customers), "--days", str(days)
            )
            _lakeml(home, config, "transform", "--snowflake")  # the extraction views ingestion reads
            _lakeml(home, config, "ingest")
            for name, args in (("full", ["--full-refresh"]), ("incremental (1 day)", [])):
                if name != "full":
                    _lakeml(home, config, "source", "advance", "--days", "1")
                    _lakeml(home, config, "ingest")
                if "local" in targets:
                    doc, wall = _lakeml(home, config, "transform", *args)
                    builds["local"].append((name, doc, wall))
                if "glue" in targets:
                    copy_bronze()
                    doc, wall = _lakeml(twin_home, config, "transform", "--target", "glue", *args)
                    builds["glue"].append((name, doc, wall))
        finally:
            _stop(
                home,
                config,
                "from lakeml.core.settings import load_settings; "
                "from lakeml.twins.snowflake import server; server.stop(load_settings())",
            )
            _stop(twin_home, config, STOP_GLUE_TWIN)
    orders = seeded["tables"]["ORDERS"]
    rows = []
    for target, runs in builds.items():
        label = {"local": "local (spark session)", "glue": "glue (local twin)"}[target]
        full_wall = runs[0][2]
        for name, doc, wall in runs:
            rows.append(
                {
                    "customers": customers,
                    "orders": orders,
                    "target": label,
                    "build": name,
                    "wall s": round(wall, 1),
                    "dbt s": doc["seconds"],
                    "models": doc["models"],
                    "tests": doc["tests"],
                    "failed": len(doc["failed"]),
                    "of full": f"{wall / full_wall:.0%}",
                }
            )
    return rows


def main() -> None:
    scales = [int(s) for s in os.environ.get("BENCH_TRANSFORM_SCALES", "5000,50000").split(",")]
    days = int(os.environ.get("BENCH_TRANSFORM_DAYS", "450"))
    targets = os.environ.get("BENCH_TRANSFORM_TARGETS", "local,glue").split(",")
    rows: list[dict[str, Any]] = []
    for customers in scales:
        rows += measure(customers, days, targets)
        print_table("dbt build: full vs one-day incremental (lakeml transform; local Spark, Glue twin)", rows)
    write_result(
        "transform",
        "python -m bench.bench_transform",
        rows,
        packages=("dbt-core", "dbt-spark", "dbt-glue", "pyspark"),
        scales=scales,
        targets=targets,
        days=days,
    )


if __name__ == "__main__":
    main()
