"""Score the challenger and the current Approved champion on the same test set (processing step).

Writes `evaluation.json`, whose paths the pipeline's ConditionStep and FailStep read with `Std:JsonGet`
(keep its structure stable — tests evaluate every path the definition uses against a real file):

    {"metrics":  {"auc": {"value": …}, "pr_auc": {…}, "log_loss": {…}, "brier": {…}, "rows": …,
                  "positive_rate": …, "calibration": [{"bin", "count", "mean_predicted", "observed_rate"}]},
     "champion": {"version": …, "model_data_url": …, "auc": {"value": …}, …} | {"version": null, "auc": null,…},
     "gates":    {"auc_floor": {"value", "threshold", "passed"},
                  "beats_champion": {"value", "threshold", "champion_auc", "min_improvement", "passed"},
                  "passed": bool, "failed": [names], "summary": "…"},
     "lineage":  {"data_snapshot", "git_sha", "training_job", "training_rows"}}

The champion comes from the model registry at step time (`--model-package-group`): the job's entry point
(`lakeml.jobs.evaluate`) hands `run()` the registry and lake ports — SageMaker model package groups and
S3 with the job's role on AWS, SQLite under LAKEML_HOME and the lake folder locally (shared with the
local runner's job process) — so no extra pipeline step is needed to resolve it. `--champion-model` names an artefact explicitly instead (re-evaluations, tests).
`gates.beats_champion.threshold` is champion AUC + MIN_IMPROVEMENT (0 when there is no champion), since a
pipeline condition cannot add numbers.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_pipelines import gates
from ml_pipelines.steps.container import Container, write_json

if TYPE_CHECKING:
    import numpy as np

    from lakeml.core.lake import LakeStorage
    from ml_pipelines.registry import ModelRegistry

CALIBRATION_BINS = 10


def parse_args(argv: list[str] | None, container: Container) -> argparse.Namespace:
    c = container
    parser = argparse.ArgumentParser(
        prog="python -m lakeml.jobs.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--model", default=c.processing("model"), help="challenger model folder or model.tar.gz"
    )
    parser.add_argument("--test", default=c.processing("test"), help="test split folder (Parquet)")
    parser.add_argument("--output", default=c.processing("evaluation"), help="where evaluation.json goes")
    parser.add_argument(
        "--model-package-group",
        default="",
        help="registry group whose latest Approved version is the champion ('' = none)",
    )
    parser.add_argument(
        "--champion-model", default="", help="champion artefact (URI or path) instead of asking the registry"
    )
    return parser.parse_args(argv)


def calibration(labels: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict[str, Any]]:
    """Reliability table: equal-width bins of predicted probability, observed churn rate in each."""
    import numpy as np

    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        table.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "count": count,
                "mean_predicted": round(float(scores[mask].mean()), 6) if count else None,
                "observed_rate": round(float(labels[mask].mean()), 6) if count else None,
            }
        )
    return table


def score(labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    return {
        "auc": {"value": round(float(roc_auc_score(labels, scores)), 6)},
        "pr_auc": {"value": round(float(average_precision_score(labels, scores)), 6)},
        "log_loss": {"value": round(float(log_loss(labels, scores, labels=[0, 1])), 6)},
        "brier": {"value": round(float(brier_score_loss(labels, scores)), 6)},
        "rows": len(labels),
        "positive_rate": round(float(labels.mean()), 6),
        "calibration": calibration(labels, scores),
    }


def _champion_source(args: argparse.Namespace, registry: ModelRegistry) -> tuple[str, dict[str, Any]] | None:
    """(artefact URI, registry facts) of the champion, or None when there is none."""
    if args.champion_model:
        return args.champion_model, {"version": None, "source": "argument"}
    if not args.model_package_group:
        return None
    from ml_pipelines.registry import UnknownModelGroup

    try:
        champion = registry.champion(args.model_package_group)
    except UnknownModelGroup:  # first run: the Register step creates the group
        return None
    if champion is None:
        return None
    return champion.model_data_url, {"version": champion.version, "source": "registry"}


def gate_report(auc: float, champion_auc: float | None) -> dict[str, Any]:
    threshold = (champion_auc + gates.MIN_IMPROVEMENT) if champion_auc is not None else 0.0
    floor = {"value": auc, "threshold": gates.AUC_FLOOR, "passed": auc >= gates.AUC_FLOOR}
    beats = {
        "value": auc,
        "threshold": round(threshold, 6),
        "champion_auc": champion_auc,
        "min_improvement": gates.MIN_IMPROVEMENT,
        "passed": auc >= threshold,
    }
    failed = [name for name, gate in (("auc_floor", floor), ("beats_champion", beats)) if not gate["passed"]]
    reasons = []
    if not floor["passed"]:
        reasons.append(
            f"gate auc_floor failed: test AUC {auc:.4f} < floor {gates.AUC_FLOOR:.4f} "
            f"(short by {gates.AUC_FLOOR - auc:.4f})"
        )
    if not beats["passed"]:
        reasons.append(
            f"gate beats_champion failed: test AUC {auc:.4f} < champion AUC {champion_auc:.4f} + "
            f"min improvement {gates.MIN_IMPROVEMENT:.4f} = {threshold:.4f} (short by {threshold - auc:.4f})"
        )
    summary = (
        "; ".join(reasons)
        if reasons
        else (
            f"all gates passed: test AUC {auc:.4f} >= floor {gates.AUC_FLOOR:.4f} and >= {threshold:.4f} "
            + (
                f"(champion {champion_auc:.4f} + {gates.MIN_IMPROVEMENT:.4f})"
                if champion_auc is not None
                else "(no Approved champion)"
            )
        )
    )
    return {
        "auc_floor": floor,
        "beats_champion": beats,
        "passed": not failed,
        "failed": failed,
        "summary": summary,
    }


def run(args: argparse.Namespace, container: Container, *, registry: ModelRegistry, lake: LakeStorage) -> int:
    from lakeml.core.errors import LakemlError
    from ml_pipelines import model_artifact
    from ml_pipelines.data import read_frame

    with tempfile.TemporaryDirectory(prefix="lakeml-evaluate-") as tmp:
        work = Path(tmp)
        challenger = model_artifact.load(model_artifact.unpack(Path(args.model), work / "challenger"))
        test = read_frame(Path(args.test), "test split")
        label_column = challenger.spec.label_column
        if label_column not in test.columns:
            raise LakemlError(f"test split has no label column {label_column!r}")
        labels = test[label_column].to_numpy().astype("int8")
        metrics = score(labels, challenger.predict(test))

        champion: dict[str, Any] = {
            "version": None,
            "model_data_url": None,
            "auc": None,
            "pr_auc": None,
            "log_loss": None,
            "brier": None,
        }
        source = _champion_source(args, registry)
        if source is not None:
            uri, facts = source
            location = model_artifact.fetch(uri, work / "champion-download", lake)
            model = model_artifact.load(model_artifact.unpack(location, work / "champion"))
            champion_metrics = score(labels, model.predict(test))
            champion = {
                **facts,
                "model_data_url": uri,
                **champion_metrics,
                "git_sha": model.metadata.get("git_sha"),
                "data_snapshot": model.metadata.get("data_snapshot"),
            }

    auc = metrics["auc"]["value"]
    champion_auc = champion["auc"]["value"] if champion["auc"] else None
    document = {
        "metrics": metrics,
        "champion": champion,
        "gates": gate_report(auc, champion_auc),
        "lineage": {
            "data_snapshot": str(challenger.metadata.get("data_snapshot", "unknown")),
            "git_sha": str(challenger.metadata.get("git_sha", "unknown")),
            "training_job": str(challenger.metadata.get("training_job", "unknown")),
            "training_rows": challenger.metadata.get("training_rows"),
            "evaluated_by_git_sha": container.git_sha(),
        },
    }
    write_json(Path(args.output) / "evaluation.json", document)
    print(
        f"test-auc={auc:.6f} test-pr-auc={metrics['pr_auc']['value']:.6f} "
        f"test-logloss={metrics['log_loss']['value']:.6f}",
        flush=True,
    )
    if champion_auc is not None:
        print(f"champion-auc={champion_auc:.6f} (version {champion.get('version')})", flush=True)
    print(document["gates"]["summary"], flush=True)
    return 0
