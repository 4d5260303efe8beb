"""bronze -> silver -> gold with dbt, run in-process: local Spark (dbt-spark session) or Glue (dbt-glue).

`build()` is what `lakeml transform` and the `transform` stage of `lakeml run` call; `docs_generate()`
backs `lakeml docs`; `build_extraction_views()` builds the Snowflake-side views.
"""

from lakeml.transform.runner import (
    BuildReport,
    NodeResult,
    build,
    build_extraction_views,
    docs_generate,
    run_dbt,
)

__all__ = ["BuildReport", "NodeResult", "build", "build_extraction_views", "docs_generate", "run_dbt"]
