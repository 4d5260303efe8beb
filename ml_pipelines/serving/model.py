"""A deployed model: an XGBoost booster with its feature names, version and variant.

Loaded from a model dir, or from the `model.tar.gz` SageMaker packs the training model dir into. The
feature names and their order come from the booster itself (trained with named features), so the
server validates requests against exactly what the model was trained on.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lakeml.core.errors import LakemlError
from ml_pipelines.serving.predict import DensePredictor

MODEL_FILES = ("xgboost-model.json", "xgboost-model.ubj", "xgboost-model", "model.json", "model.ubj")


@dataclass(frozen=True)
class LoadedModel:
    booster: object  # xgboost.Booster (typed loosely: xgboost is imported lazily)
    feature_names: tuple[str, ...]
    version: str
    source: str
    predictor: Callable[[np.ndarray], np.ndarray] | None = None  # DensePredictor; None: inplace_predict

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Probabilities for a float32 matrix whose columns are in `feature_names` order."""
        if self.predictor is not None:
            return self.predictor(rows)
        return self.booster.inplace_predict(rows)  # type: ignore[attr-defined]


def _model_file(folder: Path) -> Path:
    for name in MODEL_FILES:
        if (folder / name).is_file():
            return folder / name
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    raise LakemlError(
        f"no XGBoost model in {folder} (looked for {', '.join(MODEL_FILES)}; found {found or 'nothing'})"
    )


def load_model(source: str | Path, version: str = "unversioned") -> LoadedModel:
    """Load from a model dir or a model.tar.gz. Raises LakemlError saying what is missing."""
    import xgboost as xgb

    path = Path(source)
    if not path.exists():
        raise LakemlError(f"model {path} does not exist")
    with tempfile.TemporaryDirectory() as tmp:
        folder = path
        if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path) as archive:
                archive.extractall(tmp, filter="data")
            folder = Path(tmp)
        model_file = path if path.is_file() and folder == path else _model_file(folder)
        booster = xgb.Booster()
        booster.load_model(str(model_file))
        booster.set_param({"nthread": 1})  # one request, one core: the server scales by workers
        names = booster.feature_names
        features_file = model_file.parent / "features.json"
        if not names and features_file.is_file():  # written beside the model by ml_pipelines.steps.train
            document = json.loads(features_file.read_text())
            names = document.get("features", document) if isinstance(document, dict) else document
    if not names:
        raise LakemlError(
            f"model {path} was trained without feature names; train it on a named DMatrix/DataFrame"
        )
    return LoadedModel(
        booster=booster,
        feature_names=tuple(names),
        version=str(version),
        source=str(path),
        predictor=DensePredictor(booster),
    )
