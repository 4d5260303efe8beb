"""Train the churn model: XGBoost `hist`, early stopping on validation AUC (training step; the image's
`train` command).

SageMaker contract: channels in `SM_CHANNEL_TRAIN` / `SM_CHANNEL_VALIDATION` (Parquet + `features.json`
from prepare), hyperparameters in `/opt/ml/input/config/hyperparameters.json` (all values are strings, as
SageMaker writes them) or as `--name value` arguments, the model into `SM_MODEL_DIR`. Metrics go to stdout
as `train-auc=…` / `validation-auc=…` lines that the tuning job's MetricDefinitions regexes read; the last
`validation-auc` line is the best iteration's, which is the value the tuner ranks by.

Model dir: `xgboost-model.json` (trees up to the best iteration), `features.json`, `metadata.json`
(data snapshot, training rows, git sha, hyperparameters, best iteration and AUC).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from lakeml.core.errors import UsageError
from ml_pipelines.features import FeatureSpec
from ml_pipelines.steps.container import Container, cpus, training_job_name, write_json

MODEL_FILE = "xgboost-model.json"
# name -> (type, default). Only these are accepted, so a typo in a tuning range fails the job loudly.
HYPERPARAMETERS: dict[str, tuple[type, Any]] = {
    "eta": (float, 0.1),
    "max_depth": (int, 6),
    "min_child_weight": (float, 1.0),
    "subsample": (float, 0.9),
    "colsample_bytree": (float, 0.9),
    "lambda": (float, 1.0),
    "alpha": (float, 0.0),
    "gamma": (float, 0.0),
    "max_bin": (int, 256),
    "num_round": (int, 500),
    "early_stopping_rounds": (int, 30),
    "seed": (int, 7),
    "nthread": (int, 0),  # 0: all cores
    "log_every": (int, 10),
}
METRIC_DEFINITIONS = [
    {"Name": "validation:auc", "Regex": r"validation-auc=([0-9]*\.?[0-9]+)"},
    {"Name": "train:auc", "Regex": r"train-auc=([0-9]*\.?[0-9]+)"},
]


def parse_args(argv: list[str] | None, container: Container) -> dict[str, Any]:
    """Hyperparameters from hyperparameters.json, overridden by `--name value` arguments."""
    c = container
    parser = argparse.ArgumentParser(prog="train", description=__doc__.split("\n")[0])
    for name, (kind, _) in HYPERPARAMETERS.items():
        parser.add_argument(f"--{name}", type=kind, default=None)
    parser.add_argument("--train", default=None, help="train channel folder (default $SM_CHANNEL_TRAIN)")
    parser.add_argument(
        "--validation", default=None, help="validation channel (default $SM_CHANNEL_VALIDATION)"
    )
    parser.add_argument("--model-dir", default=None, help="where the model goes (default $SM_MODEL_DIR)")
    args = parser.parse_args(argv)
    config_dir = c.sm_path("SM_INPUT_CONFIG_DIR", "input", "config")
    from_file: dict[str, Any] = {}
    if (config_dir / "hyperparameters.json").is_file():
        from_file = json.loads((config_dir / "hyperparameters.json").read_text())
    unknown = sorted(set(from_file) - set(HYPERPARAMETERS))
    if unknown:
        raise UsageError(
            f"unknown hyperparameter(s) {', '.join(unknown)}; train accepts {', '.join(HYPERPARAMETERS)}"
        )
    params: dict[str, Any] = {}
    for name, (kind, default) in HYPERPARAMETERS.items():
        value = getattr(args, name)
        if value is None:
            raw = from_file.get(name, default)
            try:
                value = kind(float(raw)) if kind is int else kind(raw)
            except (TypeError, ValueError):
                raise UsageError(f"hyperparameter {name}={raw!r} is not a {kind.__name__}") from None
        params[name] = value
    params["_train"] = (
        Path(args.train) if args.train else c.sm_path("SM_CHANNEL_TRAIN", "input", "data", "train")
    )
    params["_validation"] = (
        Path(args.validation)
        if args.validation
        else c.sm_path("SM_CHANNEL_VALIDATION", "input", "data", "validation")
    )
    params["_model_dir"] = Path(args.model_dir) if args.model_dir else c.sm_path("SM_MODEL_DIR", "model")
    return params


def booster_params(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "objective": "binary:logistic",
        "eval_metric": ["logloss", "auc"],  # the last metric drives early stopping
        "tree_method": "hist",
        "eta": params["eta"],
        "max_depth": params["max_depth"],
        "min_child_weight": params["min_child_weight"],
        "subsample": params["subsample"],
        "colsample_bytree": params["colsample_bytree"],
        "lambda": params["lambda"],
        "alpha": params["alpha"],
        "gamma": params["gamma"],
        "max_bin": params["max_bin"],
        "seed": params["seed"],
        # SageMaker sets SM_NUM_CPUS to the instance's vCPUs; the local runner to this job's share of them.
        "nthread": params["nthread"] or cpus() or os.cpu_count() or 1,
    }


def run(params: dict[str, Any], container: Container) -> int:
    import xgboost as xgb

    from ml_pipelines.data import read_frame

    spec = FeatureSpec.read(params["_train"] / "features.json")
    train = read_frame(params["_train"], "train channel")
    validation = read_frame(params["_validation"], "validation channel")
    dtrain = xgb.DMatrix(
        train[list(spec.features)], label=train[spec.label_column], feature_names=list(spec.features)
    )
    dval = xgb.DMatrix(
        validation[list(spec.features)],
        label=validation[spec.label_column],
        feature_names=list(spec.features),
    )
    log_every = max(1, params["log_every"])

    class PrintMetrics(xgb.callback.TrainingCallback):
        """One metrics line per `log_every` rounds, in the MetricDefinitions format."""

        def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
            if epoch % log_every == 0:
                print(
                    f"[{epoch}] train-auc={evals_log['train']['auc'][-1]:.6f} "
                    f"validation-auc={evals_log['validation']['auc'][-1]:.6f}",
                    flush=True,
                )
            return False

    started = time.perf_counter()
    booster = xgb.train(
        booster_params(params),
        dtrain,
        num_boost_round=params["num_round"],
        evals=[(dtrain, "train"), (dval, "validation")],
        early_stopping_rounds=params["early_stopping_rounds"],
        callbacks=[PrintMetrics()],
        verbose_eval=False,
    )
    seconds = time.perf_counter() - started
    best_iteration = int(booster.best_iteration)
    best = booster[: best_iteration + 1]
    best_auc = float(booster.best_score)
    model_dir: Path = params["_model_dir"]
    model_dir.mkdir(parents=True, exist_ok=True)
    best.save_model(model_dir / MODEL_FILE)
    spec.write(model_dir / "features.json")
    split_file = params["_train"] / "split.json"
    split = json.loads(split_file.read_text()) if split_file.is_file() else {}
    snapshot = split.get("data_snapshot") or str(validation[spec.event_time_column].max())
    write_json(
        model_dir / "metadata.json",
        {
            "framework": f"xgboost {xgb.__version__}",
            "model_file": MODEL_FILE,
            "data_snapshot": str(snapshot),
            "training_rows": len(train),
            "validation_rows": len(validation),
            "training_snapshot_to": str(train[spec.event_time_column].max()),
            "git_sha": container.git_sha(),
            "training_job": training_job_name(),
            "hyperparameters": {k: v for k, v in params.items() if not k.startswith("_")},
            "best_iteration": best_iteration,
            "validation_auc": best_auc,
            "training_seconds": round(seconds, 3),
        },
    )
    print(f"best_iteration={best_iteration} training_seconds={seconds:.3f}", flush=True)
    # Last line: the best validation AUC, which SageMaker takes as the job's final objective value.
    print(
        f"train-auc={float(best.eval(dtrain).split(':')[-1]):.6f} validation-auc={best_auc:.6f}", flush=True
    )
    return 0
