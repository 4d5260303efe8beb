"""Publishing dbt's run results to the lake (`runs/dbt/`, layout in `lakeml.core.lake.runs`).

Why: dbt writes run_results.json into its target folder, which on AWS is the disk of an ECS task that is
gone when the task ends. The data-quality monitor, training (which records the invocation id with the
model version) and `lakeml lineage` read it from the lake instead, the same way locally and on S3.
The bronze visibility index is copied with it because dbt's bronze relations read it
(`dbt_project/macros/register_bronze.sql`) and later ingestion runs rewrite it: the copy is the exact
set of bronze runs this build saw.

`latest.json` is written for every build, failed ones too (`success` says which): it names the last
thing dbt did to the lake, which is what a model trained right after it was trained on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from lakeml.core.errors import LakemlError
from lakeml.core.lake import BRONZE, LakeStorage
from lakeml.core.lake.runs import BRONZE_RUNS, DBT_LATEST, RUN_RESULTS, DbtRun, dbt_run_file, write_json

VISIBILITY_INDEX = f"{BRONZE}/_visible"  # ingestion writes it, dbt reads it


def visible_bronze(lake: LakeStorage) -> dict[str, list[dict[str, Any]]]:
    """The bronze visibility index as it is now: table (file name) -> its JSON lines, one per run."""
    selector = pafs.FileSelector(lake.path(VISIBILITY_INDEX), allow_not_found=True)
    index: dict[str, list[dict[str, Any]]] = {}
    for info in lake.fs.get_file_info(selector):
        name = info.base_name
        if info.type != pafs.FileType.File or not name.endswith(".json") or name.startswith("."):
            continue
        with lake.fs.open_input_stream(info.path) as stream:
            text = stream.read().decode()
        index[name.removesuffix(".json")] = [json.loads(line) for line in text.splitlines() if line.strip()]
    return dict(sorted(index.items()))


def publish_run_results(
    lake: LakeStorage,
    results_dir: Path,
    *,
    target: str,
    success: bool,
    bronze_runs: dict[str, list[dict[str, Any]]],
) -> DbtRun | None:
    """Copy dbt's run_results.json from `results_dir` to the lake with `bronze_runs`, then point
    latest.json at it (last, so latest never names a folder that is not there). None when dbt wrote no
    run_results.json."""
    local = results_dir / RUN_RESULTS
    if not local.is_file():
        return None
    data = local.read_bytes()
    metadata = json.loads(data).get("metadata") or {}
    invocation_id = str(metadata.get("invocation_id") or "")
    if not invocation_id:
        raise LakemlError(f"{local} has no metadata.invocation_id; it is not a dbt run_results.json")
    run = DbtRun(
        invocation_id=invocation_id,
        run_results=write_json(lake, dbt_run_file(invocation_id, RUN_RESULTS), data),
        target=target,
        generated_at=str(metadata.get("generated_at") or ""),
        success=success,
    )
    write_json(lake, dbt_run_file(invocation_id, BRONZE_RUNS), bronze_runs)
    write_json(lake, DBT_LATEST, run.to_json())
    return run
