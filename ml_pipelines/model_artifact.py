"""A trained model as a folder (`xgboost-model.json`, `features.json`, `metadata.json`) or as SageMaker's
`model.tar.gz` of that folder; loading and scoring it the same way wherever it is used (evaluate,
batch-scoring preparation, benchmarks), so every consumer feeds the features in the trained order.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from lakeml.core.errors import LakemlError
from ml_pipelines.features import FeatureSpec

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import xgboost as xgb

    from lakeml.core.lake import LakeStorage

MODEL_FILE = "xgboost-model.json"
ARCHIVE = "model.tar.gz"


def unpack(source: Path, workdir: Path) -> Path:
    """The model folder inside `source`: a folder with the model file, a `model.tar.gz`, or a folder holding
    one archive (a processing input of the archive's S3 URI)."""
    if source.is_dir() and (source / MODEL_FILE).is_file():
        return source
    archive = source if source.is_file() else next(iter(sorted(source.glob("*.tar.gz"))), None)
    if archive is None:
        raise LakemlError(f"no model under {source}: expected {MODEL_FILE} or a {ARCHIVE}")
    target = workdir / "unpacked"
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(target, filter="data")
    if not (target / MODEL_FILE).is_file():
        raise LakemlError(f"{archive} holds no {MODEL_FILE}; was it written by ml_pipelines.steps.train?")
    return target


@dataclass
class Model:
    booster: xgb.Booster
    spec: FeatureSpec
    metadata: dict[str, Any]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [f for f in self.spec.features if f not in frame.columns]
        if missing:
            raise LakemlError(f"data lacks feature(s) {', '.join(missing)} the model was trained on")
        import xgboost as xgb

        matrix = xgb.DMatrix(frame[list(self.spec.features)], feature_names=list(self.spec.features))
        return self.booster.predict(matrix)


def load(folder: Path) -> Model:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(folder / MODEL_FILE)
    metadata_file = folder / "metadata.json"
    metadata = json.loads(metadata_file.read_text()) if metadata_file.is_file() else {}
    return Model(booster, FeatureSpec.read(folder / "features.json"), metadata)


def fetch(uri: str, target: Path, lake: LakeStorage) -> Path:
    """Copy a model artefact named by the registry (a URI of the lake, or locally a path) into `target`;
    return the copy (a file, or a folder for a folder artefact).

    The lake storage port resolves the URI, so the same call reads S3 on AWS (with the job's role) and
    the lake folder locally (where the lake bucket's URIs map to)."""
    import pyarrow.fs as pafs

    try:
        path = lake.resolve(uri)
    except ValueError as exc:
        raise LakemlError(f"model artefact {uri}: {exc}") from None
    info = lake.fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise LakemlError(f"model artefact {uri} not found (looked at {path})")
    target.mkdir(parents=True, exist_ok=True)
    destination = target / (PurePosixPath(path).name or "artefact")
    pafs.copy_files(
        path,
        str(destination),
        source_filesystem=lake.fs,
        destination_filesystem=pafs.LocalFileSystem(),
    )
    return destination
