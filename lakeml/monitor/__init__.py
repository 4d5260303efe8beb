"""The data-quality monitor: after dbt, before training, is the data good enough to learn from?

`check(settings, ports, execution_id)` reads ingestion's manifests and dbt's published run results
through the lake port, applies the `quality` thresholds, writes `runs/quality/<execution_id>.json` and
raises `QualityThresholdExceeded` past a threshold. The quality Lambda and the local flow call it.
"""

from lakeml.monitor.check import MonitorPorts, check, run_check, thresholds
from lakeml.monitor.report import QualityReport, QualityThresholdExceeded, Thresholds

__all__ = [
    "MonitorPorts",
    "QualityReport",
    "QualityThresholdExceeded",
    "Thresholds",
    "check",
    "run_check",
    "thresholds",
]
