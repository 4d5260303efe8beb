"""Crash safety: SIGKILL `lakeml ingest` at every write boundary and at random times; a clean run then
leaves bronze with every source row of the committed windows exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from ingestion.faults import WRITE_BOUNDARIES
from ingestion.visibility import read_visibility
from lakeml.core.lake.local import LocalLake
from tests.conftest import REPO
from tests.ingestion.conftest import at

KILLED = -signal.SIGKILL


def change_source(source, step: int) -> None:
    """New orders and customers, an update, and an exact double insert: every kind of write happens."""
    ids = source.add_orders(9, at(60 * step), spread_minutes=30)
    source.add_customers(6, at(60 * step))
    if step > 1:
        source.touch_orders([step], at(60 * step))  # an older order changes status
    source.duplicate_order(ids[-1])


@pytest.mark.slow
def test_sigkill_at_every_write_boundary_then_a_clean_run_loses_and_duplicates_nothing(
    lakeml, source, sources
):
    sources(contract=True, chunk_rows=4, part_rows=5)
    kills = [(boundary, 1) for boundary in WRITE_BOUNDARIES] + [("part", 3), ("manifest", 2)]
    for step, (boundary, nth) in enumerate(kills, start=1):
        change_source(source, step)
        result = lakeml("--json", "ingest", env={"LAKEML_INGEST__FAULT_AT": f"{boundary}:{nth}"})
        assert result.code == KILLED, (boundary, nth, result)

    rng = random.Random(7)
    for step in range(len(kills) + 1, len(kills) + 4):
        change_source(source, step)
        proc = subprocess.Popen(
            [sys.executable, "-m", "lakeml.cli.main", "--json", "ingest"],
            cwd=REPO,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)

    final = lakeml("--json", "ingest")
    assert final.code == 0, final
    verify = lakeml("--json", "ingest", "verify")
    assert verify.code == 0, verify
    for table, row in verify.json.items():
        assert (row["missing"], row["duplicates"]) == (0, 0), (table, row)
        assert row["source_rows"] > 0 and row["bronze_rows"] >= row["source_rows"], (table, row)
    assert verify.json["ORDERS"]["quarantined_rows"] >= len(kills)  # the double inserts, set aside once each


def visible(home) -> list[str]:
    return [run.run_id for run in read_visibility(LocalLake.create(home / "lake"), "orders")]


def test_a_crash_after_the_manifest_is_rolled_forward_not_extracted_again(lakeml, source, sources, home):
    source.add_orders(10, at(60))
    crashed = lakeml("--json", "ingest", "--table", "ORDERS", env={"LAKEML_INGEST__FAULT_AT": "manifest:1"})
    assert crashed.code == KILLED, crashed
    assert visible(home) == []  # committed, but the index was not re-published before the crash
    source.add_orders(4, at(120))
    run = lakeml("--json", "ingest", "--table", "ORDERS")
    assert run.code == 0, run
    summary = run.json["runs"][0]
    assert len(summary["recovered"]) == 1
    assert summary["watermark_from"] == at(60).isoformat() and summary["landed"] == 4
    verify = lakeml("--json", "ingest", "verify", "--table", "ORDERS").json["ORDERS"]
    assert (verify["missing"], verify["duplicates"], verify["bronze_rows"]) == (0, 0, 14)
    assert visible(home) == [*summary["recovered"], summary["run_id"]]  # the next run healed the index
