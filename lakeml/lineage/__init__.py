"""`lakeml lineage`: which source windows, bronze runs, dbt invocation, training snapshot and endpoint
config belong to a model version — read from the records each stage writes, through the ports.

It reads across domains (ingestion's manifests, transform's run results, the registry, the deployer),
so it sits in the flow layer, above them; `trace.py` holds it, `lakeml.cli.lineage` prints it.
"""

from lakeml.lineage.trace import Lineage, LineagePorts, trace

__all__ = ["Lineage", "LineagePorts", "trace"]
