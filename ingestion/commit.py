"""The commit protocol: a run is committed by its manifest, then the watermark advances conditionally.

Crashes and races leave two kinds of debris, both repaired here before a new window is captured:

- A committed manifest that starts from the current watermark is a run that crashed after its manifest
  and before its advance: the watermark is advanced to it (rolled forward), never re-extracted.
- A committed non-backfill manifest that starts from the same watermark as a run on the committed chain,
  but is not that run, lost a race (or is the second of two crashed candidates): it is un-committed.

The committed history of a table is the chain from the watermark's run back through each manifest's
`from_run_id` (`chain`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ingestion.config import TableConfig
from ingestion.faults import NO_FAULTS, Faults
from ingestion.manifest import Manifest, by_run, delete_manifest, read_manifests, write_manifest
from ingestion.retry import transient_retry
from ingestion.visibility import publish_visibility
from ingestion.watermarks.port import Watermark, WatermarkConflict, WatermarkStore
from lakeml.core.lake import LakeStorage


@transient_retry
def get_watermark(store: WatermarkStore, table: str) -> Watermark | None:
    """The stored watermark, with transient failures retried."""
    return store.get(table)


def chain(manifests: Sequence[Manifest], head: str | None) -> list[str]:
    """Run ids from the watermark's run back through each run's `from_run_id`: the committed history."""
    runs = by_run(manifests)
    found: list[str] = []
    while head is not None and head in runs and head not in found:
        found.append(head)
        head = runs[head].from_run_id
    return found


def reconcile(
    lake: LakeStorage, store: WatermarkStore, table: TableConfig, current: Watermark | None
) -> tuple[Watermark | None, list[str]]:
    """Repair what a crash or a lost race left behind (see the module docstring); returns the watermark
    to start from and the runs rolled forward."""
    recovered: list[str] = []
    while True:
        manifests = read_manifests(lake, table.lower)
        head = current.run_id if current else None
        history = chain(manifests, head)
        progressive = [m for m in manifests if m.mode != "backfill"]
        candidates = [m for m in progressive if m.from_run_id == head and m.run_id not in history]
        taken = {m.run_id: m for m in manifests if m.run_id in history}
        if candidates:
            chosen = max(candidates, key=lambda m: (m.window_high, m.run_id))
            advance(lake, store, table, current, chosen.new_watermark, chosen.run_id)
            recovered.append(chosen.run_id)
            taken[chosen.run_id] = chosen
            current = chosen.new_watermark
        starts = {m.from_run_id for m in taken.values()}
        for m in progressive:
            if m.run_id not in taken and m.from_run_id in starts and head is not None:
                delete_manifest(lake, table.lower, m.run_id)
        if not candidates:
            return current, recovered


def advance(
    lake: LakeStorage,
    store: WatermarkStore,
    table: TableConfig,
    expected: Watermark | None,
    new: Watermark,
    run_id: str,
) -> None:
    """Conditional advance. A conflict is success when the stored value already has this run in its
    committed chain (another process rolled it forward); otherwise this run lost and is un-committed."""
    try:
        store.advance(table.name, expected, new)
        return
    except WatermarkConflict:
        stored = store.get(table.name)
        if stored == new or run_id in chain(
            read_manifests(lake, table.lower), stored.run_id if stored else None
        ):
            return
        delete_manifest(lake, table.lower, run_id)
        raise WatermarkConflict(
            f"table {table.name}: another ingestion run advanced the watermark first (now "
            f"{stored.cursor.isoformat() if stored else None}, run {stored.run_id if stored else None}); this run "
            f"({run_id}) was not committed. Run `lakeml ingest --table {table.name}` again to continue."
        ) from None


def commit(
    lake: LakeStorage,
    store: WatermarkStore,
    table: TableConfig,
    manifest: Manifest,
    current: Watermark | None,
    faults: Faults = NO_FAULTS,
) -> None:
    """Commit a landed run: write its manifest, advance the watermark from `current` (not for a
    backfill, which never moves state), then publish the table's visibility index."""
    write_manifest(lake, manifest, faults)
    if manifest.mode != "backfill":
        advance(lake, store, table, current, manifest.new_watermark, manifest.run_id)
    publish_visibility(lake, [table.name])
    faults.point("advanced")
