"""Generator scale: seed N customers (default 1,000,000 x 90 days) into a fresh local source.

Claim measured: the generator reaches a million customers in bounded memory (it generates and loads in
chunks of 20,000 customers) at a useful speed. Reports rows/s per table and in total, and the peak RSS of
this process (the generator) and of the local Snowflake server (DuckDB holds the loaded data).

Run: `make bench` or `python -m bench generator`; `BENCH_GENERATOR_CUSTOMERS` / `BENCH_GENERATOR_DAYS`
change the scale (e.g. 100000 / 450 for a quicker run).
"""

from __future__ import annotations

import os
import resource
import tempfile
import threading
import time
from pathlib import Path

from bench.common import print_table, write_result

CUSTOMERS = int(os.environ.get("BENCH_GENERATOR_CUSTOMERS", "1000000"))
DAYS = int(os.environ.get("BENCH_GENERATOR_DAYS", "90"))


class _PeakRss:
    """Samples the RSS of a process every 0.2 s (the server is another process: getrusage cannot see it)."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.2)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake import generator
    from lakeml.wiring import adapters

    with tempfile.TemporaryDirectory(prefix="lakeml-bench-gen-") as scratch:
        os.environ["LAKEML_HOME"] = str(Path(scratch) / "home")
        twin = adapters(load_settings()).twin
        info = twin.ensure_running()
        try:
            config = generator.SeedConfig(customers=CUSTOMERS, days=DAYS, seed=42)
            progress_marks: list[tuple[float, int]] = []
            started = time.monotonic()

            def progress(_task: str, done: int, _total: int) -> None:
                progress_marks.append((time.monotonic() - started, done))

            with twin.connect() as conn, _PeakRss(info.pid) as server_rss:
                report = generator.seed(conn, config, progress=progress)
                advance_started = time.monotonic()
                advanced = generator.advance(conn, 1)
                advance_seconds = time.monotonic() - advance_started
            own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        finally:
            twin.stop()
    seconds = report["seconds"]
    rows = [
        {"table": name, "rows": count, "rows_per_s": count / seconds}
        for name, count in report["tables"].items()
    ]
    total = sum(report["tables"].values())
    rows.append({"table": "TOTAL", "rows": total, "rows_per_s": total / seconds})
    print_table(f"seed {CUSTOMERS:,} customers x {DAYS} days in {seconds:.1f} s", rows)
    memory = {
        "generator_peak_rss_mib": round(own_peak / 2**20),
        "server_peak_rss_mib": round(server_rss.peak / 2**20),
    }
    print_table(
        "memory and advance",
        [
            {
                **memory,
                "advance_1_day_s": round(advance_seconds, 1),
                "advance_rows": sum(advanced["inserted"].values()),
            }
        ],
    )
    write_result(
        "generator",
        "make bench  # or: python -m bench generator",
        rows,
        packages=("numpy", "pyarrow", "fakesnow", "duckdb", "snowflake-connector-python"),
        customers=CUSTOMERS,
        days=DAYS,
        seconds=seconds,
        advance_1_day_seconds=round(advance_seconds, 2),
        advance_updated=advanced["updated"],
        **memory,
    )
