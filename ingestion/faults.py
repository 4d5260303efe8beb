"""Test-only crash hooks at every write boundary of a run, driven by `settings.ingest.fault_at`.

`LAKEML_INGEST__FAULT_AT=<boundary>:<n>` SIGKILLs the ingesting process the n-th time it reaches a write
boundary; the crash-sweep test uses it to prove that a crash at any point loses and duplicates nothing.
`<boundary>:wait=<file>` pauses there until the file exists (to stage a race in tests). Never set either
in production. The spec arrives through the run context, so nothing here reads the environment.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Every place a crash can leave the lake in a different state, in the order a run reaches them.
WRITE_BOUNDARIES = (
    "run_start",  # watermark read, nothing written
    "cleaned",  # run folders emptied
    "part_partial",  # half of a bronze part's bytes written
    "part",  # a bronze part written
    "quarantine_part",  # a quarantine part written
    "before_manifest",  # all parts written, no manifest
    "manifest_tmp",  # manifest under its temporary name, not yet moved
    "manifest",  # manifest committed, watermark not advanced
    "advanced",  # watermark advanced and visibility index published, run not reported
)
WAIT_LIMIT_S = 120.0


@dataclass
class Faults:
    """Where (if anywhere) this run should crash or pause; `Faults(None)` does nothing."""

    spec: str | None = None
    _seen: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def boundary(self) -> str | None:
        return self.spec.partition(":")[0] if self.spec else None

    def armed(self, boundary: str) -> bool:
        """Whether `boundary` is the one the spec names (a writer then splits its write around it)."""
        return self.boundary == boundary

    def point(self, boundary: str) -> None:
        """SIGKILL this process at the n-th arrival at `boundary`, or pause there, if the spec says so."""
        if not self.spec or not self.armed(boundary):
            return
        nth = self.spec.partition(":")[2]
        if nth.startswith("wait="):  # hold here until the named file exists
            flag, deadline = Path(nth.removeprefix("wait=")), time.monotonic() + WAIT_LIMIT_S
            while not flag.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return
        with self._lock:
            self._seen[boundary] += 1
            hit = self._seen[boundary] == int(nth or 1)
        if hit:
            os.kill(os.getpid(), signal.SIGKILL)


NO_FAULTS = Faults()
