"""Which dbt build the features being ingested come from: the lineage feature ingestion records.

The training pipeline's `DbtInvocationId` parameter names it. `train()` passes the newest build
transform published (`runs/dbt/latest.json`); anyone who starts the pipeline without it (the Step
Functions flow, `lakeml pipeline run`, the console) gets the parameter's default `latest`, which the
IngestFeatures job resolves the same way, inside the job, through the lake port. Either way the id the
job used is written to its report and the Register step copies it into the model version's metadata,
so the version never carries a value nobody checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakeml.core.lake.runs import latest_dbt_run

if TYPE_CHECKING:
    from lakeml.core.lake import LakeStorage

LATEST = "latest"  # the pipeline parameter's default: resolve runs/dbt/latest.json when the job runs
UNKNOWN = "unknown"  # no dbt build was ever published to this lake


def resolve_dbt_invocation(lake: LakeStorage | None, given: str) -> dict[str, Any]:
    """`given` (an invocation id), or for `latest`/empty the newest published build, as the lineage
    fields of feature ingestion: `dbt_invocation_id`, and `dbt_run_results`/`dbt_success` when known."""
    if given and given not in (LATEST, UNKNOWN):
        return {"dbt_invocation_id": given}
    run = latest_dbt_run(lake) if lake is not None else None
    if run is None:
        return {"dbt_invocation_id": UNKNOWN}
    return {
        "dbt_invocation_id": run.invocation_id,
        "dbt_run_results": run.run_results,
        "dbt_success": run.success,
    }


def latest_invocation_id(lake: LakeStorage) -> str | None:
    """The newest published dbt build's invocation id, or None."""
    run = latest_dbt_run(lake)
    return run.invocation_id if run else None
