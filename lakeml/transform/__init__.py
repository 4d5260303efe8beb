"""bronze -> silver -> gold with dbt, run in-process on a transform target: local Spark (dbt-spark
session) or Glue (dbt-glue); the target is a port (`targets/`), chosen by `lakeml.wiring`.

`build()` is what `lakeml transform` and the `transform` stage of `lakeml run` call; `docs_generate()`
backs `lakeml docs`; `build_extraction_views()` builds the Snowflake-side views.
"""

from lakeml.transform.report import BuildReport, NodeResult
from lakeml.transform.runner import build, build_extraction_views, docs_generate, run_dbt
from lakeml.transform.targets import DbtProfile, TransformTarget

__all__ = [
    "BuildReport",
    "DbtProfile",
    "NodeResult",
    "TransformTarget",
    "build",
    "build_extraction_views",
    "docs_generate",
    "run_dbt",
]
