"""Recent request counts and latency per production variant, kept in the server's memory.

The studio's Endpoint page reads them from `GET /stats` (what CloudWatch's `Invocations` and
`ModelLatency` per variant are on AWS). The request path only appends one sample to a bounded deque and
bumps two counters; percentiles are computed when `/stats` is read, never per request. Counts are per
server process and start at zero when it starts.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

WINDOW_SECONDS = 300.0  # "recent" = the last five minutes
MAX_SAMPLES = 4096  # per variant; under heavier traffic the window holds the newest MAX_SAMPLES requests


class VariantStats:
    """Counters since the server started, and the newest samples: (perf_counter at the end, seconds, ok)."""

    __slots__ = ("errors", "requests", "samples")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.samples: deque[tuple[float, float, bool]] = deque(maxlen=MAX_SAMPLES)


class Stats:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.variants: dict[str, VariantStats] = {}
        self.rejected = 0  # refused before a variant was chosen: unknown endpoint or variant, body too large

    def record(self, variant: str, started: float, ok: bool) -> None:
        """One answered request of `variant`, started at `started` (time.perf_counter())."""
        now = time.perf_counter()
        stats = self.variants.get(variant)
        if stats is None:
            stats = self.variants[variant] = VariantStats()
        stats.requests += 1
        if not ok:
            stats.errors += 1
        stats.samples.append((now, now - started, ok))

    def snapshot(self, endpoint: str | None, serving: Iterable[tuple[str, str, float]]) -> dict[str, Any]:
        """The `/stats` document; `serving` is (variant, model version, weight) of what serves now."""
        now = time.perf_counter()
        uptime = now - self.started
        window = min(WINDOW_SECONDS, uptime)
        current = {name: (version, weight) for name, version, weight in serving}
        variants = []
        for name in [*current, *(n for n in self.variants if n not in current)]:
            stats = self.variants.get(name) or VariantStats()
            recent = [(seconds, ok) for at, seconds, ok in stats.samples if at >= now - WINDOW_SECONDS]
            latencies = sorted(seconds * 1000 for seconds, ok in recent if ok)
            version, weight = current.get(name, (None, 0.0))
            variants.append(
                {
                    "variant": name,
                    "serving": name in current,
                    "model_version": version,
                    "weight": weight,
                    "requests": stats.requests,
                    "errors": stats.errors,
                    "recent": {
                        "requests": len(recent),
                        "errors": sum(1 for _, ok in recent if not ok),
                        "per_second": round(len(recent) / window, 3) if window > 0 else 0.0,
                        "latency_ms": {
                            "p50": percentile(latencies, 0.50),
                            "p99": percentile(latencies, 0.99),
                            "max": round(latencies[-1], 3) if latencies else None,
                        },
                    },
                }
            )
        return {
            "endpoint": endpoint,
            "started_at": self.started_at,
            "uptime_seconds": round(uptime, 3),
            "window_seconds": WINDOW_SECONDS,
            "max_samples": MAX_SAMPLES,
            "rejected": self.rejected,
            "variants": variants,
        }


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when it is empty)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered) - 1e-9))  # 1e-9: 0.99 * 100 is 99.00000000000001
    return round(ordered[min(rank, len(ordered)) - 1], 3)
