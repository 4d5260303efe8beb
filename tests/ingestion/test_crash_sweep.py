"""Crash safety: SIGKILL `lakeml ingest` at every write boundary and at random times; a clean run then
leaves bronze with every source row of the committed windows exactly once."""

from __future__ import annotations

import pytest

from ingestion.visibility import read_visibility
from lakeml.core.lake.local import LocalLake
from tests.ingestion.conftest import at
from tests.ingestion.crash_sweep import KILLED, KILLS, sweep


@pytest.mark.slow
def test_sigkill_at_every_write_boundary_then_a_clean_run_loses_and_duplicates_nothing(
    lakeml, source, sources
):
    sources(contract=True, chunk_rows=4, part_rows=5)
    result = sweep(lakeml, source, env={})
    for boundary, nth, killed in result.killed:
        assert killed.code == KILLED, (boundary, nth, killed)
    assert result.final.code == 0, result.final
    assert result.verify.code == 0, result.verify
    for table, row in result.verify.json.items():
        assert (row["missing"], row["duplicates"]) == (0, 0), (table, row)
        assert row["source_rows"] > 0 and row["bronze_rows"] >= row["source_rows"], (table, row)
    assert result.verify.json["ORDERS"]["quarantined_rows"] >= len(KILLS)  # the double inserts, once each


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
