"""Batch transform through the serving code: what SageMaker's TransformStep does with the image, locally.

Each input file is split into lines (SplitType Line), scored by the same payload parser and model as
the endpoint, and written to `<output>/<file>.out`, one probability per line — the file layout
SageMaker batch transform produces.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakeml.errors import LakemlError
from lakeml.settings import Settings
from ml_pipelines.serving.model import load_model
from ml_pipelines.serving.payload import BadRequest, parse_csv, parse_json

CHUNK_LINES = 5_000


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
) -> dict[str, int]:
    model = load_model(config.local_path(model_data_of(config, model_name)), version=model_name)
    source, target = config.local_path(input_uri), config.local_path(output_uri)
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    if not files:
        raise LakemlError(f"batch transform input {input_uri} ({source}) holds no files")
    target.mkdir(parents=True, exist_ok=True)
    rows = 0
    for path in files:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        out = target / f"{path.relative_to(source) if source.is_dir() else path.name}.out"
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w") as handle:
            for start in range(0, len(lines), CHUNK_LINES):
                chunk = lines[start : start + CHUNK_LINES]
                try:
                    matrix = (
                        parse_csv("\n".join(chunk).encode(), model.feature_names)
                        if content_type == "text/csv"
                        else parse_json(("[" + ",".join(chunk) + "]").encode(), model.feature_names)
                    )
                except BadRequest as exc:
                    raise LakemlError(
                        f"batch transform of {path.name}, lines {start + 1}-{start + len(chunk)}: {exc}"
                    ) from None
                handle.writelines(f"{p:.9g}\n" for p in model.predict(matrix))
                rows += len(chunk)
    return {"files": len(files), "rows": rows}
