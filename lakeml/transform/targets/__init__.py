"""The transform target port (`port.py`) and its adapters: local Spark (`local.py`) and Glue (`glue.py`)."""

from lakeml.transform.targets.port import DbtProfile, Endpoint, TransformTarget, ViewsProfile

__all__ = ["DbtProfile", "Endpoint", "TransformTarget", "ViewsProfile"]
