"""Property paths as SageMaker writes them: `Steps.Eval.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri`,
`Steps.Tune.TrainingJobSummaries[0].TrainingJobName`, `Parameters.InputData`, `Execution.PipelineExecutionId`.
"""

from __future__ import annotations

import re

from ml_pipelines.runner.errors import DefinitionError

_TOKEN = re.compile(
    r"""\.?([A-Za-z_][A-Za-z0-9_\-:]*)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[\s*(\d+)\s*\]"""
)


def parse_path(path: str) -> list[str | int]:
    """Split a property path into attribute names, dict keys and list indices."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if not match or match.end() == position:
            raise DefinitionError(f"cannot parse property path {path!r} at character {position + 1}")
        name, single, double, index = match.groups()
        if index is not None:
            parts.append(int(index))
        else:
            parts.append(name if name is not None else (single if single is not None else double))
        position = match.end()
    return parts


def lookup(document: object, parts: list[str | int], *, where: str) -> object:
    """Follow `parts` into nested dicts/lists; dict-of-named-items keyed lookups (Outputs['train']) work
    on lists of dicts too, by their `*Name` field, as SageMaker's properties do."""
    current = document
    for i, part in enumerate(parts):
        try:
            if isinstance(part, int):
                current = current[part]  # type: ignore[index]
            elif isinstance(current, dict):
                current = current[part]
            elif isinstance(current, list):
                current = next(item for item in current if part in _names(item))
            else:
                raise KeyError(part)
        except (KeyError, IndexError, TypeError, StopIteration):
            done = _render(parts[:i])
            raise DefinitionError(f"{where}: no property {part!r} after {done or 'the root'}") from None
    return current


def _names(item: object) -> set[str]:
    if not isinstance(item, dict):
        return set()
    return {str(v) for k, v in item.items() if k.endswith("Name")}


def _render(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
