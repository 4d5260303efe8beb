"""dbt: full build vs a one-day incremental build, wall seconds, at default scale and at 10x.

For each scale, in a fresh LAKEML_HOME: seed the local source (`lakeml source seed --customers N`),
build the extraction views (`lakeml transform --snowflake`), ingest (`lakeml ingest`), then time
1. full         - `lakeml --json transform --full-refresh` (every model and test from all of bronze);
2. incremental  - after `lakeml source advance --days 1` and `lakeml ingest`: `lakeml --json transform`
                  (silver rewrites the months the new runs touched; gold adds new snapshots only).
Wall seconds include the process start, dbt's parse and Spark's start (≈ the cost a user sees); `dbt s`
is dbt's own elapsed time. The claim (DESIGN §6): incremental is a small fraction of full; targets: full
≤ 45 s at default scale on 2 cores, incremental ≤ 50 % of full at 10x.

Env: BENCH_TRANSFORM_SCALES (default "5000,50000" customers), BENCH_TRANSFORM_DAYS (default 450).
"""

from __future__ import annotations

import json
import os
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


def measure(customers: int, days: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="lakeml-bench-transform-") as tmp:
        home, config = Path(tmp) / "home", Path(tmp) / "lakeml.toml"
        config.write_text("# bench: defaults\n")
        try:
            seeded, _ = _lakeml(
                home, config, "source", "seed", "--customers", str(customers), "--days", str(days)
            )
            _lakeml(home, config, "transform", "--snowflake")  # the extraction views ingestion reads
            _lakeml(home, config, "ingest")
            full, full_s = _lakeml(home, config, "transform", "--full-refresh")
            _lakeml(home, config, "source", "advance", "--days", "1")
            _lakeml(home, config, "ingest")
            step, step_s = _lakeml(home, config, "transform")
        finally:
            subprocess.run(
                [sys.executable, "-m", "lakeml.cli.main", "source", "stop"],
                env={**os.environ, "LAKEML_HOME": str(home), "LAKEML_CONFIG": str(config)},
                capture_output=True,
                cwd=REPO,
            )
    orders = seeded["tables"]["ORDERS"]
    rows = []
    for name, doc, wall in (("full", full, full_s), ("incremental (1 day)", step, step_s)):
        rows.append(
            {
                "customers": customers,
                "orders": orders,
                "build": name,
                "wall s": round(wall, 1),
                "dbt s": doc["seconds"],
                "models": doc["models"],
                "tests": doc["tests"],
                "failed": len(doc["failed"]),
            }
        )
    rows[1]["of full"] = f"{step_s / full_s:.0%}"
    rows[0]["of full"] = "100%"
    return rows


def main() -> None:
    scales = [int(s) for s in os.environ.get("BENCH_TRANSFORM_SCALES", "5000,50000").split(",")]
    days = int(os.environ.get("BENCH_TRANSFORM_DAYS", "450"))
    rows: list[dict[str, Any]] = []
    for customers in scales:
        rows += measure(customers, days)
        print_table("dbt build: full vs one-day incremental (lakeml transform, local Spark)", rows)
    write_result(
        "transform",
        "python -m bench.bench_transform",
        rows,
        packages=("dbt-core", "dbt-spark", "pyspark"),
        scales=scales,
        days=days,
    )


if __name__ == "__main__":
    main()
