"""The crash sweep's cases, run by both sweeps: on the local adapters (test_crash_sweep.py) and on the AWS
adapters against moto (test_crash_sweep_aws.py). Same source changes, same kill points, same seed for the
random kills; only the environment the `lakeml ingest` subprocesses get differs. Plumbing only: the
tests assert on what `sweep` returns."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from ingestion.faults import WRITE_BOUNDARIES
from tests.conftest import REPO, CliResult
from tests.ingestion.conftest import Source, at

KILLED = -signal.SIGKILL
# Every write boundary once, then a part and a manifest later in a run (another table's, or a later chunk).
KILLS = (*((boundary, 1) for boundary in WRITE_BOUNDARIES), ("part", 3), ("manifest", 2))
RANDOM_KILLS = 3
RANDOM_KILL_SECONDS = (0.5, 4.0)  # after the process starts: from before the first write to mid-run


def change_source(source: Source, step: int) -> None:
    """New orders and customers, an update, and an exact double insert: every kind of write happens."""
    ids = source.add_orders(9, at(60 * step), spread_minutes=30)
    source.add_customers(6, at(60 * step))
    if step > 1:
        source.touch_orders([step], at(60 * step))  # an older order changes status
    source.duplicate_order(ids[-1])


@dataclass
class Sweep:
    """What the sweep saw: each fault-point run's (boundary, n, result), the clean run, and the audit."""

    killed: list[tuple[str, int, CliResult]]
    final: CliResult
    verify: CliResult


def sweep(lakeml: Callable[..., CliResult], source: Source, env: dict[str, str]) -> Sweep:
    """Change the source, SIGKILL `lakeml ingest` at every write boundary (LAKEML_INGEST__FAULT_AT) and
    then at random times, run it once cleanly, and audit with `lakeml ingest verify --json`."""
    killed = []
    for step, (boundary, nth) in enumerate(KILLS, start=1):
        change_source(source, step)
        result = lakeml("--json", "ingest", env={**env, "LAKEML_INGEST__FAULT_AT": f"{boundary}:{nth}"})
        killed.append((boundary, nth, result))

    rng = random.Random(7)
    for step in range(len(KILLS) + 1, len(KILLS) + 1 + RANDOM_KILLS):
        change_source(source, step)
        proc = subprocess.Popen(
            [sys.executable, "-m", "lakeml.cli.main", "--json", "ingest"],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(*RANDOM_KILL_SECONDS))  # the random time is the point: no event to wait on
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)

    final = lakeml("--json", "ingest", env=env)
    return Sweep(killed, final, lakeml("--json", "ingest", "verify", env=env))
