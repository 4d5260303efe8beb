"""The daily loop at default scale: what one more day costs compared with the first run.

In a scratch LAKEML_HOME (defaults: 5,000 customers, 450 days of history): the first `lakeml --json run`,
then BENCH_DAILY_DAYS (default 3, at least 3) times `lakeml --json source advance --days 1` followed by
`lakeml --json run`. Each `lakeml run` is its own process, as a scheduler starts it, so its wall time
includes Python's start, dbt's parse and Spark's JVM start. For every run the stages of the flow and the
steps of the training pipeline come from `lakeml run --json` itself (`stages.<name>.seconds`,
`stages.train.steps[].seconds`); the dbt build is split further from the run_results.json the transform
stage published (on-run-start, models, data tests, unit tests: dbt's per-node execution time, summed over
its threads, so those rows are shares of dbt's work rather than of wall time). IngestFeatures' records come
from the ingest.json report the step wrote.

Printed: one Rich table (first run, daily median, spread min-max over the daily runs, each row's share of
its run, daily/first), the ratio daily/first of whole runs (median and spread), and the acceptance of
issue 17 (one-day run <= 60 s and <= 0.3x the first). Peers that cannot run are listed as skipped with
the reason. JSON: bench/results/daily.json. Reproduce: `make bench` or `.venv/bin/python -m bench daily`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench.common import write_result

REPO = Path(__file__).resolve().parents[1]
DAYS = max(3, int(os.environ.get("BENCH_DAILY_DAYS", "3")))
LIMIT_SECONDS = 60.0  # issue 17: one-day `lakeml run` <= 60 s ...
LIMIT_RATIO = 0.3  # ... and <= 0.3x the first run
STOP_TWIN = (
    "from lakeml.core.settings import load_settings; "
    "from lakeml.twins.snowflake import server; server.stop(load_settings())"
)


class Home:
    """A scratch LAKEML_HOME and the `lakeml` CLI against it, one process per command."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "home"
        self.config = folder / "lakeml.toml"
        self.config.write_text("# bench daily: defaults only\n")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEML_", "DBT_"))}
        return {**env, "LAKEML_HOME": str(self.path), "LAKEML_CONFIG": str(self.config)}

    def lakeml(self, *args: str) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "lakeml.cli.main", "--json", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=self.env(),
            timeout=3600,
        )
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RunFailed(
                f"lakeml {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}"
            )
        return json.loads(proc.stdout), seconds

    def stop_twin(self) -> None:
        subprocess.run([sys.executable, "-c", STOP_TWIN], env=self.env(), cwd=REPO, capture_output=True)


class RunFailed(RuntimeError):
    pass


def local_path(uri: str) -> Path:
    return Path(urlparse(uri).path) if uri.startswith("file:") else Path(uri)


def dbt_parts(stage: dict[str, Any]) -> dict[str, float]:
    """The dbt build's execution seconds by kind of node, from the run_results.json it published."""
    uri = stage.get("run_results")
    if not uri or not uri.startswith(("file:", "/")):
        return {}
    results = json.loads(local_path(uri).read_text())["results"]
    parts: dict[str, float] = {}
    for result in results:
        kind = result["unique_id"].split(".", 1)[0]
        label = {"operation": "on-run-start", "model": "models", "test": "data tests"}.get(kind, "unit tests")
        parts[label] = parts.get(label, 0.0) + float(result.get("execution_time") or 0.0)
    return parts


def records_written(home: Home, train: dict[str, Any]) -> int | None:
    """IngestFeatures' records, from the document or else from the ingest.json the step wrote."""
    for key in ("records_written", "feature_records"):
        if isinstance(train.get(key), int):
            return int(train[key])
    execution = str(train.get("execution_id") or "")
    if not execution:
        return None
    for report in (home.path / "lake").rglob("ingest.json"):
        if execution in report.parts:
            value = json.loads(report.read_text()).get("records_written")
            return int(value) if value is not None else None
    return None


def measure(home: Home, document: dict[str, Any], wall: float) -> dict[str, Any]:
    """One run as rows: its wall time, each stage, each training step and the dbt build's parts."""
    stages = document["stages"]
    parts: dict[str, float] = {"lakeml run (wall)": wall}
    for name, stage in stages.items():
        parts[name] = float(stage["seconds"])
        if name == "transform":
            parts.update({f"  dbt: {k}": v for k, v in dbt_parts(stage).items()})
        for step in stage.get("steps") or []:
            parts[f"  {name}: {step['name']}"] = float(step.get("seconds") or 0.0)
    parts["outside the stages (process start, wiring)"] = wall - sum(
        float(s["seconds"]) for s in stages.values()
    )
    train = stages.get("train") or {}
    return {"seconds": parts, "records": records_written(home, train), "status": document["status"]}


def spread(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}" if values else ""


def rows_of(first: dict[str, Any], days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = list(first["seconds"])
    for day in days:
        names += [n for n in day["seconds"] if n not in names]
    first_total = first["seconds"]["lakeml run (wall)"]
    rows = []
    for name in names:
        daily = [d["seconds"][name] for d in days if name in d["seconds"]]
        shares = [
            d["seconds"][name] / d["seconds"]["lakeml run (wall)"] for d in days if name in d["seconds"]
        ]
        base = first["seconds"].get(name)
        median = statistics.median(daily) if daily else None
        rows.append(
            {
                "part": name,
                "first_s": round(base, 2) if base is not None else None,
                "first_share": round(base / first_total, 3) if base is not None else None,
                "daily_median_s": round(median, 2) if median is not None else None,
                "daily_spread_s": spread(daily),
                "daily_share": round(statistics.median(shares), 3) if shares else None,
                "daily_over_first": round(median / base, 2) if median is not None and base else None,
            }
        )
    return rows


def print_rich(rows: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column, justify in (
        ("part", "left"),
        ("first s", "right"),
        ("share", "right"),
        ("daily median s", "right"),
        ("spread s", "right"),
        ("share", "right"),
        ("daily/first", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]

    def seconds(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    def share(value: float | None) -> str:
        return "" if value is None else f"{value:.0%}"

    for row in rows:
        table.add_row(
            row["part"],
            seconds(row["first_s"]),
            share(row["first_share"]),
            seconds(row["daily_median_s"]),
            row["daily_spread_s"],
            share(row["daily_share"]),
            "" if row["daily_over_first"] is None else f"{row['daily_over_first']:.2f}x",
        )
    Console(width=max(120, int(os.environ.get("COLUMNS", "0") or 0))).print(table)


def main() -> None:
    skipped: list[dict[str, str]] = []
    first: dict[str, Any] | None = None
    days: list[dict[str, Any]] = []
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="lakeml-bench-daily-") as tmp:
        home = Home(Path(tmp))
        try:
            document, wall = home.lakeml("run")
            first = measure(home, document, wall)
            for day in range(DAYS):
                home.lakeml("source", "advance", "--days", "1")
                document, wall = home.lakeml("run")
                days.append(measure(home, document, wall))
                print(f"day {day + 1}/{DAYS}: {wall:.1f} s", flush=True)
        except RunFailed as exc:
            skipped.append({"peer": "lakeml run (local)", "reason": str(exc)})
        finally:
            home.stop_twin()
    load_after = os.getloadavg()
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    if first and days:
        rows = rows_of(first, days)
        print_rich(rows, f"lakeml run: first vs {len(days)} one-day advances (default scale)")
        first_total = first["seconds"]["lakeml run (wall)"]
        daily = [d["seconds"]["lakeml run (wall)"] for d in days]
        ratios = [d / first_total for d in daily]
        summary = {
            "first_s": round(first_total, 2),
            "daily_median_s": round(statistics.median(daily), 2),
            "daily_spread_s": spread(daily),
            "ratio_median": round(statistics.median(ratios), 3),
            "ratio_spread": f"{min(ratios):.2f}-{max(ratios):.2f}",
            "first_records_written": first["records"],
            "daily_records_written": [d["records"] for d in days],
            "acceptance": {
                "daily_le_60s": statistics.median(daily) <= LIMIT_SECONDS,
                "ratio_le_0_3": statistics.median(ratios) <= LIMIT_RATIO,
            },
        }
        print(
            f"\ndaily/first: median {summary['ratio_median']:.2f}x (spread {summary['ratio_spread']}); "
            f"first {first_total:.1f} s, daily median {summary['daily_median_s']:.1f} s "
            f"(spread {summary['daily_spread_s']} s)"
        )
        print(
            f"IngestFeatures records written: first {first['records']}, daily {summary['daily_records_written']}"
        )
        verdict = " and ".join(
            f"{label} {'met' if ok else 'NOT met'}"
            for label, ok in (
                (f"daily <= {LIMIT_SECONDS:.0f} s", summary["acceptance"]["daily_le_60s"]),
                (f"daily <= {LIMIT_RATIO}x first", summary["acceptance"]["ratio_le_0_3"]),
            )
        )
        print(f"acceptance (issue 17): {verdict}")
    print(f"load average before {load[0]:.2f}, after {load_after[0]:.2f} on {os.cpu_count()} CPUs")
    for peer in skipped:
        print(f"skipped: {peer['peer']}: {peer['reason']}")
    write_result(
        "daily",
        "make bench  # or: .venv/bin/python -m bench daily",
        rows,
        packages=("dbt-core", "dbt-spark", "pyspark", "xgboost-cpu", "optuna", "sagemaker-mlops"),
        days=DAYS,
        summary=summary,
        runs={"first": first, "daily": days},
        skipped=skipped,
        load_average={"before": load, "after": load_after},
    )


if __name__ == "__main__":
    main()
