"""The step modules' command lines chained as SageMaker runs them: prepare -> train -> evaluate as
`python -m lakeml.jobs.<name>` subprocesses (the image's job commands) with SageMaker's environment (SM_CHANNEL_*,
SM_MODEL_DIR, hyperparameters.json) rooted at LAKEML_CONTAINER__OPT_ML. Used by the step and definition tests, and
usable on real gold (`chain(root, gold=<lake>/gold)`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from tests.ml_pipelines import synthetic

REPO = Path(__file__).resolve().parents[2]


def run_step(
    module: str, opt_ml: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", f"lakeml.jobs.{module}", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env={**os.environ, "LAKEML_CONTAINER__OPT_ML": str(opt_ml), **(env or {})},
    )
    assert proc.returncode == 0, f"{module} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def chain(
    root: Path,
    *,
    shuffle_labels: bool = False,
    champion: Path | None = None,
    home: Path | None = None,
    group: str = "",
    gold: Path | None = None,
) -> dict[str, Any]:
    """prepare -> train -> evaluate like SageMaker runs them; returns paths and outputs. `gold` is a
    folder of dbt's gold tables; synthetic ones are written when it is not given."""
    gold = gold or synthetic.write_gold(root / "gold", shuffle_labels=shuffle_labels)
    prep_ml, train_ml, eval_ml = (
        root / "prepare" / "opt-ml",
        root / "train" / "opt-ml",
        root / "eval" / "opt-ml",
    )
    # Processing: defaults resolve under LAKEML_CONTAINER__OPT_ML, inputs copied where SageMaker would put them.
    (prep_ml / "processing" / "input").mkdir(parents=True)
    os.symlink(gold / "churn_training_set", prep_ml / "processing" / "input" / "training_set")
    run_step("prepare", prep_ml)  # the real dbt column docs are the feature list
    # Training: channels, hyperparameters.json and SM_* variables as SageMaker sets them.
    config = train_ml / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(
        json.dumps({"eta": "0.1", "max_depth": "4", "num_round": "300"})
    )
    train = run_step(
        "train",
        train_ml,
        env={
            "SM_CHANNEL_TRAIN": str(prep_ml / "processing" / "train"),
            "SM_CHANNEL_VALIDATION": str(prep_ml / "processing" / "validation"),
            "SM_MODEL_DIR": str(train_ml / "model"),
            "SM_INPUT_CONFIG_DIR": str(config),
            "LAKEML_CONTAINER__GIT_SHA": "0123abc",  # baked into the image at build time
        },
    )
    archive = root / "artifacts" / "model.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted((train_ml / "model").iterdir()):
            tar.add(path, arcname=path.name)
    args = ["--model", str(archive.parent), "--test", str(prep_ml / "processing" / "test")]
    if champion is not None:
        args += ["--champion-model", str(champion)]
    if group:
        args += ["--model-package-group", group]
    env = {"LAKEML_HOME": str(home)} if home else None
    evaluate = run_step("evaluate", eval_ml, *args, env=env)
    return {
        "root": root,
        "split": json.loads((prep_ml / "processing" / "report" / "split.json").read_text()),
        "prep": prep_ml / "processing",
        "model_dir": train_ml / "model",
        "archive": archive,
        "train_stdout": train.stdout,
        "evaluate_stdout": evaluate.stdout,
        "evaluation": json.loads((eval_ml / "processing" / "evaluation" / "evaluation.json").read_text()),
    }
