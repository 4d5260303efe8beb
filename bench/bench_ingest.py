"""Ingestion throughput: lakeml ingest (contracts on) beside the bare loop, dlt and DuckDB, in one run.

Same machine, same local Snowflake (fakesnow over DuckDB), same ~2,000,000-row ORDERS table:

1. bare loop   - connector `execute` + `fetch_arrow_batches` + `ParquetWriter` (zstd), nothing else: the
                 practical limit of this source.
2. dlt         - `sql_table(backend="pyarrow")` -> filesystem destination, Parquet (snowflake-sqlalchemy
                 engine with host/port/protocol in `connect_args`): the peer.
3. DuckDB COPY - `COPY (SELECT * FROM ORDERS) TO 'x.parquet'` on the source's own DuckDB file (server
                 stopped): the engine limit, no Snowflake protocol in the way.
4. lakeml      - `lakeml ingest --table ORDERS --full-refresh` (object RETAIL.RAW.ORDERS, the table the
                 peers read) with contracts on (window queries,
                 watermark dedup, duplicate check, contract, parts, manifest, conditional advance).

Peak RSS of the `lakeml ingest` process is sampled at 1x and at BENCH_INGEST_SCALE x (default 10x) the
row count. fakesnow materialises a whole result in the server and hands it over as one batch, so a
single query's client RSS grows with the result (the bare loop shows it); lakeml reads the window in
keyset pages of `page_rows` (default 500,000), so its RSS is bounded by the page, not the table. The
bare loop is not run at 10x: one 20M-row result outlives the connector's request timeout, the connector
re-sends the query and fakesnow's DuckDB session refuses it ("connection is busy").

lakeml runs BENCH_INGEST_REPS times (default 3) at each scale; the table shows the median, and the
scaling table the spread (min-max) and the ratios N x / 1 x of rows/s and of peak RSS.

Reproduce: `make bench` or `.venv/bin/python -m bench ingest` (BENCH_INGEST_ROWS, BENCH_INGEST_SCALE,
BENCH_INGEST_REPS).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import print_table, write_result
from ingestion.config import TableOptions

ROWS = int(os.environ.get("BENCH_INGEST_ROWS", "2000000"))
SCALE = int(os.environ.get("BENCH_INGEST_SCALE", "10"))
REPS = int(os.environ.get("BENCH_INGEST_REPS", "3"))  # lakeml runs per scale: median and spread
PEERS = os.environ.get("BENCH_INGEST_PEERS", "1") != "0"  # 0: lakeml at 1x and Nx only (bare loop kept)
REPO = Path(__file__).resolve().parents[1]

FILL_SQL = """
INSERT INTO {database}.RAW.ORDERS
SELECT %(first)s + seq8(),
       1 + mod(seq8() * 7919, 200000),
       dateadd(second, seq8() * 3, '2025-01-01 00:00:00'::timestamp),
       CASE mod(seq8(), 3) WHEN 0 THEN 'web' WHEN 1 THEN 'app' ELSE 'store' END,
       CASE mod(seq8(), 5) WHEN 0 THEN 'placed' WHEN 1 THEN 'shipped' WHEN 2 THEN 'delivered'
            WHEN 3 THEN 'cancelled' ELSE 'returned' END,
       1 + mod(seq8(), 9),
       (10 + mod(seq8() * 31, 50000) / 100.0)::NUMBER(12,2),
       (mod(seq8(), 500) / 100.0)::NUMBER(12,2),
       (10 + mod(seq8() * 31, 50000) / 100.0 - mod(seq8(), 500) / 100.0)::NUMBER(12,2),
       dateadd(second, seq8() * 3 + 3600, '2025-01-01 00:00:00'::timestamp)
FROM table(generator(rowcount => %(rows)s))
"""


def _env(home: Path, sources: Path) -> dict[str, str]:
    config = home.parent / "lakeml.toml"
    config.write_text("# bench: defaults\n")
    return {
        **os.environ,
        "LAKEML_HOME": str(home),
        "LAKEML_CONFIG": str(config),
        "LAKEML_INGEST__SOURCES": str(sources),
        "LAKEML_ENV": "local",
    }


def fill(conn: Any, rows: int, database: str = "RETAIL") -> None:
    """`rows` generated orders in <database>.RAW.ORDERS (the contract is the ORDERS table's either way)."""
    from ingestion.schema import ORDERS

    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {database}.RAW")
        cur.execute(f"DROP TABLE IF EXISTS {database}.RAW.ORDERS")
        cur.execute(ORDERS.ddl(f"{database}.RAW.ORDERS"))
        step = 1_000_000
        for first in range(0, rows, step):
            cur.execute(FILL_SQL.format(database=database), {"first": first, "rows": min(step, rows - first)})


def bare_loop(conn: Any, out: Path) -> int:
    import pyarrow.parquet as pq

    rows = 0
    writer = None
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM RETAIL.RAW.ORDERS")
        for batch in cur.fetch_arrow_batches():
            if writer is None:
                writer = pq.ParquetWriter(out, batch.schema, compression="zstd")
            writer.write_table(batch)
            rows += batch.num_rows
    if writer is not None:
        writer.close()
    return rows


def dlt_run(settings: Any, work: Path) -> int:
    import dlt
    from dlt.sources.sql_database import sql_table
    from sqlalchemy import create_engine

    from lakeml.twins.snowflake.connection import connection_params

    params = connection_params(settings)
    engine = create_engine(
        f"snowflake://{params['user']}:{params['password']}@{params['account']}/RETAIL/RAW",
        connect_args={"host": params["host"], "port": params["port"], "protocol": params["protocol"]},
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_ingest",
        pipelines_dir=str(work / "dlt_pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=(work / "dlt_out").as_uri()),
        dataset_name="bronze",
    )
    source = sql_table(
        credentials=engine, table="ORDERS", schema="RAW", backend="pyarrow", chunk_size=100_000
    )
    info = pipeline.run(source, loader_file_format="parquet")
    info.raise_on_failed_jobs()
    trace = pipeline.last_trace
    assert trace is not None
    counts = trace.last_normalize_info.row_counts if trace.last_normalize_info else {}
    return int(counts.get("orders", 0))


def duckdb_copy(source_dir: Path, out: Path) -> int:
    import duckdb

    db = next(p for p in source_dir.glob("*.db") if p.name.upper().startswith("RETAIL"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        schema = next(
            s
            for (s,) in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
            if s.upper() == "RAW"
        )
        con.execute(f"COPY (SELECT * FROM {schema}.orders) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
        return int(con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchall()[0][0])
    finally:
        con.close()


def peak_rss(command: list[str], env: dict[str, str]) -> tuple[str, float]:
    """(stdout, peak RSS MiB) of a command, sampled every 20 ms."""
    import psutil

    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    watcher = psutil.Process(proc.pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, watcher.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = proc.communicate()
    done.set()
    thread.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{command[2:]} failed ({proc.returncode}): {err[-2000:]}")
    return out, peak / 2**20


def lakeml_ingest(env: dict[str, str]) -> tuple[int, float, float]:
    """(rows, seconds, peak RSS MiB) of `lakeml ingest --table ORDERS --full-refresh` as its own process."""
    import json

    command = [
        sys.executable,
        "-m",
        "lakeml.cli.main",
        "--json",
        "ingest",
        "--table",
        "ORDERS",
        "--full-refresh",
    ]
    out, peak = peak_rss(command, env)
    run = json.loads(out)["runs"][0]
    # throughput of the run itself (process start and imports excluded, as for the in-process peers)
    return int(run["extracted"]), float(run["seconds"]), peak


def spread(scale: str, attempts: list[tuple[int, float, float]]) -> dict[str, Any]:
    """Median and range of rows/s over repeated runs, and the highest peak RSS."""
    rates = [rows / seconds for rows, seconds, _ in attempts]
    return {
        "scale": scale,
        "rows": attempts[0][0],
        "rows_per_s_median": round(statistics.median(rates)),
        "rows_per_s_min": round(min(rates)),
        "rows_per_s_max": round(max(rates)),
        "peak_rss_mib": round(max(rss for _, _, rss in attempts)),
    }


def bare_loop_rss(env: dict[str, str], work: Path) -> float:
    """Peak RSS MiB of the bare loop in its own process: the floor any client of this source pays."""
    code = (
        "from bench.bench_ingest import bare_loop; from lakeml.core.settings import load_settings; "
        "from lakeml.twins.snowflake.connection import connect; import sys; "
        f"print(bare_loop(connect(load_settings()), __import__('pathlib').Path({str(work / 'bare2.parquet')!r})))"
    )
    return peak_rss([sys.executable, "-c", code], env)[1]


def main() -> None:
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake import server
    from lakeml.twins.snowflake.connection import connect

    work = Path(tempfile.mkdtemp(prefix="lakeml-bench-ingest-"))
    home = work / "home"
    sources = work / "sources.yml"
    sources.write_text(
        "defaults:\n  lag_seconds: 0\n  contract: true\n  chunk_rows: 100000\n  part_rows: 1000000\n"
        "tables:\n  ORDERS: {object: RETAIL.RAW.ORDERS}\n"
    )
    # the Nx table is ORDERS too (same contract) in a database of its own; both land in the same lake
    # (each run is a full refresh)
    scaled_sources = work / "sources-scaled.yml"
    scaled_sources.write_text(sources.read_text().replace("RETAIL.RAW.ORDERS", "RETAIL_SCALED.RAW.ORDERS"))
    env = _env(home, sources)
    scaled_env = {**env, "LAKEML_INGEST__SOURCES": str(scaled_sources)}
    os.environ.update(
        {k: env[k] for k in ("LAKEML_HOME", "LAKEML_CONFIG", "LAKEML_INGEST__SOURCES", "LAKEML_ENV")}
    )
    settings = load_settings()
    results: list[dict[str, Any]] = []
    try:
        conn = connect(settings)
        t0 = time.perf_counter()
        fill(conn, ROWS)
        print(f"filled {ROWS:,} ORDERS rows in {time.perf_counter() - t0:.1f} s", flush=True)

        def record(name: str, rows: int, seconds: float, note: str = "") -> None:
            results.append(
                {
                    "method": name,
                    "rows": rows,
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(rows / seconds),
                    "note": note,
                }
            )
            print(f"  {name}: {rows:,} rows in {seconds:.2f} s", flush=True)

        # best of two for the baseline, so a cold first query never flatters the others
        bare_seconds = []
        for _ in range(2):
            start = time.perf_counter()
            rows = bare_loop(conn, work / "bare.parquet")
            bare_seconds.append(time.perf_counter() - start)
        rss_bare = bare_loop_rss(env, work)
        record(
            "bare loop (fetch_arrow_batches + ParquetWriter zstd)",
            rows,
            min(bare_seconds),
            f"best of 2; peak RSS {rss_bare:,.0f} MiB (own process)",
        )

        scaling: list[dict[str, Any]] = []
        if SCALE > 1:  # the Nx table beside the 1x one, so their runs can alternate
            t0 = time.perf_counter()
            fill(conn, ROWS * SCALE, "RETAIL_SCALED")
            print(
                f"filled {ROWS * SCALE:,} RETAIL_SCALED orders in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
        conn.close()
        # 1x and Nx runs alternate, so both see the same machine (it is often shared): the ratio holds
        ones: list[tuple[int, float, float]] = []
        many: list[tuple[int, float, float]] = []
        failed = None
        for _ in range(REPS):
            ones.append(lakeml_ingest(env))
            if SCALE > 1 and failed is None:
                try:
                    many.append(lakeml_ingest(scaled_env))
                except RuntimeError as exc:
                    failed = str(exc)[-160:]
        rows, seconds = ones[0][0], statistics.median(a[1] for a in ones)
        rss_1x = max(a[2] for a in ones)
        record("lakeml ingest, contracts on", rows, seconds, f"median of {REPS}; peak RSS {rss_1x:,.0f} MiB")
        scaling.append(spread("1x", ones))
        if many and failed is None:
            rows, seconds = many[0][0], statistics.median(a[1] for a in many)
            rss_nx = max(a[2] for a in many)
            record(
                f"lakeml ingest, contracts on, {SCALE}x",
                rows,
                seconds,
                f"median of {REPS}, alternating with 1x; peak RSS {rss_nx:,.0f} MiB",
            )
            scaling.append(spread(f"{SCALE}x", many))
        elif failed is not None:
            results.append(
                {
                    "method": f"lakeml ingest, contracts on, {SCALE}x",
                    "rows": 0,
                    "seconds": 0,
                    "rows_per_s": 0,
                    "note": f"failed: {failed}",
                }
            )

        if PEERS:
            start = time.perf_counter()
            try:
                rows = dlt_run(settings, work)
                record("dlt sql_table pyarrow -> filesystem parquet", rows, time.perf_counter() - start)
            except Exception as exc:
                results.append(
                    {
                        "method": "dlt sql_table pyarrow",
                        "rows": 0,
                        "seconds": 0,
                        "rows_per_s": 0,
                        "note": f"failed: {type(exc).__name__}: {str(exc)[:160]}",
                    }
                )
        else:
            print("  dlt and DuckDB COPY: skipped (BENCH_INGEST_PEERS=0)", flush=True)
        server.stop(settings)
        if PEERS:
            start = time.perf_counter()
            rows = duckdb_copy(settings.source_dir, work / "duckdb.parquet")
            record("DuckDB COPY (SELECT *) TO parquet", rows, time.perf_counter() - start)
    finally:
        server.stop(settings)
        shutil.rmtree(work, ignore_errors=True)

    bare = next(r["rows_per_s"] for r in results if r["method"].startswith("bare"))
    for row in results:
        row["vs_bare"] = round(row["rows_per_s"] / bare, 2) if bare else None
    print_table(f"ingestion, {ROWS:,} ORDERS rows, local fakesnow", results)
    if len(scaling) == 2:
        at_1x, at_nx = scaling
        scaling.append(
            {
                "scale": f"{SCALE}x / 1x",
                "rows": None,
                "rows_per_s_median": round(at_nx["rows_per_s_median"] / at_1x["rows_per_s_median"], 2),
                "rows_per_s_min": None,
                "rows_per_s_max": None,
                "peak_rss_mib": round(at_nx["peak_rss_mib"] / at_1x["peak_rss_mib"], 2),
            }
        )
    print_table(f"lakeml ingest at 1x and {SCALE}x ({REPS} runs each; last row: ratios)", scaling)
    write_result(
        "ingest",
        ".venv/bin/python -m bench ingest",
        results,
        packages=("snowflake-connector-python", "fakesnow", "pyarrow", "dlt", "duckdb"),
        rows_in_table=ROWS,
        scale=SCALE,
        reps=REPS,
        load_average=[round(v, 1) for v in os.getloadavg()],  # 1, 5, 15 min at the end
        scaling=scaling,
        page_rows=TableOptions().page_rows,
    )


if __name__ == "__main__":
    main()
