"""Batch transform through the serving code: what SageMaker's TransformStep does with the image, locally.

Each input file is split into lines (SplitType Line), scored by the same payload parser and model as
the endpoint, and written to `<output>/<file>.out`, one probability per line — the file layout
SageMaker batch transform produces.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings
from ml_pipelines.serving.model import load_model
from ml_pipelines.serving.payload import BadRequest, parse_csv, parse_json

CHUNK_LINES = 5_000
_FILTER = re.compile(r"^\$(\[(-?\d*:-?\d*|-?\d+(,\s*-?\d+)*)\])?$")


def check_data_processing(data_processing: dict[str, Any], where: str) -> None:
    """The CSV subset of SageMaker's DataProcessing the local transform implements; else fail up front."""
    from ml_pipelines.runner.errors import UnsupportedFeature

    for key in ("InputFilter", "OutputFilter"):
        value = data_processing.get(key)
        if value is not None and not (isinstance(value, str) and _FILTER.match(value.replace(" ", ""))):
            raise UnsupportedFeature(
                f"{where}: DataProcessing.{key} {value!r} is not supported locally "
                "(supported: $, $[i], $[i,j,…], $[i:j])"
            )
    if data_processing.get("JoinSource", "None") not in ("None", "Input"):
        raise UnsupportedFeature(
            f"{where}: DataProcessing.JoinSource {data_processing['JoinSource']!r} is not supported"
        )


def _select(fields: list[str], expression: str | None) -> list[str]:
    """Apply a JSONPath filter such as `$[1:]` or `$[0,-1]` to one CSV record's fields."""
    if not expression or expression.replace(" ", "") == "$":
        return fields
    inner = expression.replace(" ", "")[2:-1]
    if ":" in inner:
        start, _, stop = inner.partition(":")
        return fields[int(start) if start else None : int(stop) if stop else None]
    return [fields[int(i)] for i in inner.split(",")]


def model_data_of(config: Any, model_name: str) -> str:
    """The ModelDataUrl of a model created by a CreateModel step of the local runner."""
    record = Path(config.pipelines_dir) / "models" / f"{model_name}.json"
    if not record.is_file():
        raise LakemlError(f"model {model_name!r} was not created by this local runner (no {record})")
    arguments = json.loads(record.read_text())
    container = arguments.get("PrimaryContainer") or (arguments.get("Containers") or [{}])[0]
    if not container.get("ModelDataUrl"):
        raise LakemlError(f"model {model_name!r} has no ModelDataUrl")
    return str(container["ModelDataUrl"])


def transform(
    settings: Settings,
    config: Any,
    *,
    model_name: str,
    input_uri: str,
    output_uri: str,
    content_type: str = "text/csv",
    data_processing: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Score every line of every input file, with SageMaker's InputFilter / JoinSource / OutputFilter."""
    data_processing = data_processing or {}
    model = load_model(config.local_path(model_data_of(config, model_name)), version=model_name)
    source, target = config.local_path(input_uri), config.local_path(output_uri)
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    if not files:
        raise LakemlError(f"batch transform input {input_uri} ({source}) holds no files")
    if content_type != "text/csv" and data_processing:
        raise LakemlError("DataProcessing filters are supported locally for text/csv only")
    join = data_processing.get("JoinSource", "None") == "Input"
    target.mkdir(parents=True, exist_ok=True)
    rows = 0
    for path in files:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        out = target / f"{path.relative_to(source) if source.is_dir() else path.name}.out"
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w") as handle:
            for start in range(0, len(lines), CHUNK_LINES):
                chunk = lines[start : start + CHUNK_LINES]
                records = [line.split(",") for line in chunk]
                model_input = [",".join(_select(r, data_processing.get("InputFilter"))) for r in records]
                try:
                    matrix = (
                        parse_csv("\n".join(model_input).encode(), model.feature_names)
                        if content_type == "text/csv"
                        else parse_json(("[" + ",".join(chunk) + "]").encode(), model.feature_names)
                    )
                except BadRequest as exc:
                    raise LakemlError(
                        f"batch transform of {path.name}, lines {start + 1}-{start + len(chunk)}: {exc}"
                    ) from None
                for record, probability in zip(records, model.predict(matrix), strict=True):
                    joined = [*record, f"{probability:.9g}"] if join else [f"{probability:.9g}"]
                    handle.write(",".join(_select(joined, data_processing.get("OutputFilter"))) + "\n")
                rows += len(chunk)
    return {"files": len(files), "rows": rows}
