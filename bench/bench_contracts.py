"""Contract checks: rows/s of `check_batch` (Arrow evaluators) vs the same suite run by GX's own validator.

One run, one machine, the same 1,000,000-row ORDERS-shaped batch (valid rows, nullable columns ~10 % null,
plus a variant with 1 % planted bad rows of every class). lakeml evaluates the committed suite with
`pyarrow.compute`; GX validates the same suite on the batch's pandas frame (ephemeral context, pandas
datasource, result_format COMPLETE — what per-row quarantine needs). GX's import time and the Arrow ->
pandas conversion are reported on their own rows. The ingestion budget this has to fit: the bare fetch +
Parquet loop moves ~440k rows/s here, and contracts + manifest may cost at most 30 % of it.

Reproduce: `make bench` or `.venv/bin/python -m bench contracts` (BENCH_CONTRACT_ROWS to change the size).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import datetime
from typing import Any

import pyarrow as pa

from bench.common import print_table, write_result

ROWS = int(os.environ.get("BENCH_CONTRACT_ROWS", "1000000"))
BAD_SHARE = 0.01
REPEATS = 5
NOW = datetime(2026, 11, 27, 6, 0, 0)
BARE_LOOP_ROWS_S = 440_000  # issue 3: connector fetch_arrow_batches + ParquetWriter, measured on this machine


def batches(table: Any) -> tuple[pa.Table, pa.Table]:
    """(clean batch, the same batch with BAD_SHARE of its rows broken, every class represented)."""
    from ingestion.contracts.samples import plant_bad_rows, valid_batch

    clean = valid_batch(table, ROWS, now=NOW, seed=1)
    # plant one block of every bad class, then repeat the broken block until BAD_SHARE of the rows fail
    block, _ = plant_bad_rows(table, clean.slice(0, 64), now=NOW)
    bad_block = check_of(table, block).quarantined.drop_columns(["_reasons"])
    copies = max(1, int(ROWS * BAD_SHARE) // max(1, bad_block.num_rows))
    bad = pa.concat_tables([bad_block] * copies)
    dirty = pa.concat_tables([bad, clean.slice(bad.num_rows)]).combine_chunks()
    return clean, dirty


def check_of(table: Any, batch: pa.Table) -> Any:
    from ingestion.contracts import check_batch

    return check_batch(table, batch, now=NOW)


def timed(fn: Any, repeats: int) -> tuple[float, Any]:
    seconds, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), out


def main() -> None:
    from ingestion.schema import CUSTOMERS, ORDERS

    rows: list[dict[str, Any]] = []
    clean, dirty = batches(ORDERS)
    for label, batch in (("clean", clean), (f"{BAD_SHARE:.0%} bad", dirty)):
        seconds, result = timed(lambda b=batch: check_of(ORDERS, b), REPEATS)
        rows.append(
            {
                "engine": "lakeml check_batch (pyarrow.compute)",
                "table": "ORDERS",
                "batch": label,
                "rows": batch.num_rows,
                "quarantined": result.quarantined.num_rows,
                "seconds": seconds,
                "rows_per_s": batch.num_rows / seconds,
                "time_vs_bare_loop": BARE_LOOP_ROWS_S / (batch.num_rows / seconds),
            }
        )
    customers, _ = batches(CUSTOMERS)
    seconds, result = timed(lambda: check_of(CUSTOMERS, customers), REPEATS)
    rows.append(
        {
            "engine": "lakeml check_batch (pyarrow.compute)",
            "table": "CUSTOMERS (email regex)",
            "batch": "clean",
            "rows": customers.num_rows,
            "quarantined": result.quarantined.num_rows,
            "seconds": seconds,
            "rows_per_s": customers.num_rows / seconds,
            "time_vs_bare_loop": BARE_LOOP_ROWS_S / (customers.num_rows / seconds),
        }
    )

    start = time.perf_counter()
    from ingestion.contracts import gx
    from ingestion.contracts.suites import load_suite

    gx._context()  # imports great_expectations and builds the ephemeral context
    import_seconds = time.perf_counter() - start
    rows.append(
        {"engine": "GX import + ephemeral context", "table": "", "batch": "", "seconds": import_seconds}
    )
    for label, batch in (("clean", clean), (f"{BAD_SHARE:.0%} bad", dirty)):
        convert_seconds, frame = timed(lambda b=batch: gx.gx_frame(b), 1)
        seconds, outcomes = timed(lambda f=frame: gx.gx_validate(load_suite("ORDERS"), f, {"now": NOW}), 1)
        failing = {i for o in outcomes for i in (o.unexpected_index_list or [])}
        rows.append(
            {
                "engine": "GX 1.x validator (pandas, COMPLETE)",
                "table": "ORDERS",
                "batch": label,
                "rows": batch.num_rows,
                "quarantined": len(failing),
                "seconds": seconds,
                "rows_per_s": batch.num_rows / seconds,
                "time_vs_bare_loop": BARE_LOOP_ROWS_S / (batch.num_rows / seconds),
                "arrow_to_pandas_seconds": convert_seconds,
            }
        )
    columns = [*rows[0], "arrow_to_pandas_seconds"]
    rows = [{c: row.get(c, "") for c in columns} for row in rows]
    print_table(f"Contract checks on {ROWS:,} rows (median of {REPEATS} for lakeml, 1 run for GX)", rows)
    lakeml_clean, gx_clean = float(rows[0]["rows_per_s"]), float(rows[-2]["rows_per_s"])
    print(f"\nlakeml check_batch is {lakeml_clean / gx_clean:,.0f}x GX's validator on clean ORDERS rows")
    write_result(
        "contracts",
        ".venv/bin/python -m bench contracts",
        rows,
        packages=("pyarrow", "great-expectations", "pandas"),
        rows_per_batch=ROWS,
        bad_share=BAD_SHARE,
        bare_loop_rows_per_s=BARE_LOOP_ROWS_S,
        speedup_vs_gx_clean=lakeml_clean / gx_clean,
    )


if __name__ == "__main__":
    main()
