"""The studio's Endpoint page: which version serves, its variants and weights, recent traffic.

What serves and how the traffic is split come from the deployer port (`serving`, `endpoint_config`,
`variants`): the local endpoint config file, or SageMaker's endpoint with LAKEML_ENV=aws (each variant's
version, current weight, instance count and status). Locally the config file also gives the previous
deployments. Request counts and latency come from the
running local endpoint's `GET /stats` (`lakeml serve`); when none answers, the page says how to start
one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from lakeml.wiring import Adapters
from ml_pipelines.serving.deploy import PRODUCTION_ENDPOINT

STATS_TIMEOUT_S = 1.0


def document(ports: Adapters, endpoint_url: str, endpoint: str = PRODUCTION_ENDPOINT) -> dict[str, Any]:
    deployer = ports.deployer
    serving = deployer.serving(endpoint)
    config = deployer.endpoint_config(endpoint)
    variants = [v.to_json() for v in deployer.variants(endpoint)]
    history: list[dict[str, str]] = []
    updated_at = None
    if config and Path(config).is_file():  # the local endpoint: its config file has the history
        from ml_pipelines.serving.endpoint import read

        local = read(Path(config))
        history = list(reversed(local.history))
        updated_at = local.updated_at
    total = sum(v["weight"] for v in variants) or 1.0
    for v in variants:
        v["share"] = v["weight"] / total
    return {
        "endpoint": endpoint,
        "serving": f"{serving[0]}/{serving[1]}" if serving else None,
        "group": serving[0] if serving else None,
        "version": serving[1] if serving else None,
        "config": config,
        "updated_at": updated_at,
        "variants": variants,
        "history": history,
        "stats": stats(endpoint_url),
        "endpoint_url": endpoint_url,
    }


def stats(endpoint_url: str) -> dict[str, Any]:
    """The running local endpoint's `/stats`, or {"error": …} saying how to start one."""
    url = endpoint_url.rstrip("/") + "/stats"
    try:
        with urllib.request.urlopen(url, timeout=STATS_TIMEOUT_S) as response:
            return dict(json.loads(response.read()))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return {
            "error": f"no local endpoint answers at {url} ({reason}); start one with "
            "`lakeml serve` (or pass the studio --endpoint-url)"
        }
