"""Running a committed suite with Great Expectations itself (the reference the Arrow evaluators are held to).

Used by the equivalence test, the benchmark and anyone who wants GX's own report of a batch; never on the
ingestion hot path (importing GX alone takes ~6 s). GX is imported inside these functions only.

The frame GX sees is the batch through `gx_frame`: integers as pandas nullable Int64 (a plain int64 column
with a null would become float64), booleans as nullable boolean, decimals as float64 (GX's pandas engine
has no decimal dtype; NUMBER(p≤15, s) is exact enough in a double for range checks), strings and timestamps
as pyarrow's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakeml.core import environ

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class GxOutcome:
    """GX's verdict on one expectation: success, and for map expectations the failing row positions."""

    type: str
    column: str | None
    success: bool
    unexpected_index_list: list[int] | None
    exception: str | None


def gx_frame(batch: pa.Table) -> pd.DataFrame:
    """The pandas frame GX validates for an Arrow batch (see the module docstring for the type mapping)."""
    import pandas as pd

    def mapper(t: pa.DataType) -> Any:
        if pa.types.is_integer(t):
            return pd.Int64Dtype()
        if pa.types.is_boolean(t):
            return pd.BooleanDtype()
        return None

    columns = [
        batch.column(i).cast(pa.float64()) if pa.types.is_decimal(f.type) else batch.column(i)
        for i, f in enumerate(batch.schema)
    ]
    return pa.Table.from_arrays(columns, names=batch.column_names).to_pandas(types_mapper=mapper)


@lru_cache(maxsize=1)
def _context() -> Any:
    environ.export_default("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("lakeml_contracts")
    source.add_dataframe_asset("batch").add_batch_definition_whole_dataframe("whole")
    return context


def gx_validate(suite_doc: dict[str, Any], frame: pd.DataFrame, params: dict[str, Any]) -> list[GxOutcome]:
    """Validate `frame` with GX's own validator (ephemeral context, pandas datasource, result_format
    COMPLETE), suite parameters (`now`) from `params`; one outcome per expectation, in suite order."""
    import great_expectations as gx

    context = _context()
    batch_definition = (
        context.data_sources.get("lakeml_contracts").get_asset("batch").get_batch_definition("whole")
    )
    name = suite_doc["name"]
    if name in [s.name for s in context.suites.all()]:
        context.suites.delete(name)
    suite = context.suites.add(gx.ExpectationSuite(**suite_doc))
    definition_name = f"{name}_validation"
    if definition_name in [v.name for v in context.validation_definitions.all()]:
        context.validation_definitions.delete(definition_name)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=definition_name, data=batch_definition, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=params,
        result_format={"result_format": "COMPLETE"},
    )
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        info = item.exception_info or {}
        raised = info.get("raised_exception")
        outcomes.append(
            GxOutcome(
                type=config.type,
                column=config.kwargs.get("column"),
                success=bool(item.success),
                unexpected_index_list=(item.result or {}).get("unexpected_index_list"),
                exception=str(info.get("exception_message")) if raised else None,
            )
        )
    return outcomes
