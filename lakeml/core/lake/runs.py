"""The lake's `runs/` prefix: records of what the daily flow's stages did, read by later stages.

    runs/dbt/<invocation_id>/run_results.json   dbt's run results of one build (written by transform)
    runs/dbt/<invocation_id>/bronze_runs.json   the bronze visibility index that build read
    runs/dbt/latest.json                        `DbtRun`: the newest build and where its results are
    runs/quality/<execution_id>.json            the data-quality monitor's report of one flow execution

Why in the kernel: one stage writes these and others read them (transform writes, the quality monitor,
training and `lakeml lineage` read), and the domains never import each other, so the layout and the
pointer's shape live here, next to the lake port they are written through.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow.fs as pafs

from lakeml.core.lake.port import LakeStorage

RUNS = "runs"
DBT_RUNS = f"{RUNS}/dbt"
DBT_LATEST = f"{DBT_RUNS}/latest.json"
RUN_RESULTS = "run_results.json"
BRONZE_RUNS = "bronze_runs.json"
QUALITY_RUNS = f"{RUNS}/quality"


@dataclass(frozen=True)
class DbtRun:
    """What `runs/dbt/latest.json` holds: one dbt invocation and where its run results are."""

    invocation_id: str
    run_results: str  # URI of runs/dbt/<invocation_id>/run_results.json
    target: str  # the dbt target that ran (local | glue)
    generated_at: str  # dbt's metadata.generated_at
    success: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def dbt_run_file(invocation_id: str, name: str) -> str:
    """`runs/dbt/<invocation_id>/<name>`, relative to the lake root."""
    return f"{DBT_RUNS}/{invocation_id}/{name}"


def quality_report_file(execution_id: str) -> str:
    return f"{QUALITY_RUNS}/{execution_id}.json"


def latest_dbt_run(lake: LakeStorage) -> DbtRun | None:
    """The newest dbt build transform published, or None when it never published one."""
    document = read_json(lake, DBT_LATEST)
    if not isinstance(document, dict):
        return None
    fields = DbtRun.__dataclass_fields__
    return DbtRun(**{key: value for key, value in document.items() if key in fields})


def read_json(lake: LakeStorage, relative: str) -> Any:
    """A JSON file under the lake root, or None when it does not exist."""
    path = lake.path(relative)
    if lake.fs.get_file_info(path).type != pafs.FileType.File:
        return None
    with lake.fs.open_input_stream(path) as stream:
        return json.loads(stream.read())


def write_json(lake: LakeStorage, relative: str, document: Any) -> str:
    """Write a JSON file whole (a temporary name next to it, then a move: a rename locally, a copy on
    S3), so a reader sees the old content or the new, never part of it. Returns its URI."""
    folder, _, name = relative.rpartition("/")
    lake.fs.create_dir(lake.path(folder), recursive=True)
    tmp = lake.path(folder, f".tmp-{name}")
    with lake.fs.open_output_stream(tmp) as out:
        out.write(document if isinstance(document, bytes) else _dumps(document))
    lake.fs.move(tmp, lake.path(relative))
    return lake.uri_of(relative)


def _dumps(document: Any) -> bytes:
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()
