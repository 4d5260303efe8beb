"""Input of the batch-scoring pipeline: the latest snapshot of `customer_features`, as the serving
container's CSV, plus the champion to score it with (processing step).

Writes `features/features.csv` — one line per customer: `customer_id`, then the champion's features in
its trained order, no header (the TransformStep drops the id with InputFilter `$[1:]` and joins it back
with JoinSource=Input, so the scores file reads `customer_id,score`) — and `champion/champion.json`
(`model_data_url`, `version`, `snapshot`), a property file the CreateModel step reads the model URI from.
The champion is the latest Approved version in the registry, found through the registry port the job's
entry point (`lakeml.jobs.batch_inputs`) hands `run()` (the same call on AWS and locally), or
`--champion-model` when given.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from lakeml.core.errors import LakemlError
from ml_pipelines.steps.container import Container, write_json

if TYPE_CHECKING:
    from lakeml.core.lake import LakeStorage
    from ml_pipelines.registry import ModelRegistry


def parse_args(argv: list[str] | None, container: Container) -> argparse.Namespace:
    c = container
    parser = argparse.ArgumentParser(
        prog="python -m lakeml.jobs.batch_inputs", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--input",
        default=c.processing("input", "customer_features"),
        help="folder of customer_features Parquet",
    )
    parser.add_argument("--features-output", default=c.processing("features"), help="where features.csv goes")
    parser.add_argument(
        "--champion-output", default=c.processing("champion"), help="where champion.json goes"
    )
    parser.add_argument("--model-package-group", default="", help="registry group of the champion")
    parser.add_argument(
        "--champion-model", default="", help="model artefact (URI or path) instead of the registry"
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace, *, registry: ModelRegistry, lake: LakeStorage) -> int:
    import pandas as pd

    from ml_pipelines import model_artifact
    from ml_pipelines.data import read_frame

    version: int | None = None
    uri = args.champion_model
    if not uri:
        if not args.model_package_group:
            raise LakemlError("name the champion: --model-package-group (registry) or --champion-model")
        champion = registry.champion(args.model_package_group)
        if champion is None:
            raise LakemlError(
                f"model package group {args.model_package_group} has no Approved version to score "
                f"with; approve one first (`lakeml models approve {args.model_package_group} <version>`)"
            )
        uri, version = champion.model_data_url, champion.version
    with tempfile.TemporaryDirectory(prefix="lakeml-batch-") as tmp:
        location = model_artifact.fetch(uri, Path(tmp) / "download", lake)
        spec = model_artifact.load(model_artifact.unpack(location, Path(tmp))).spec

    frame = read_frame(Path(args.input), "customer_features")
    missing = [f for f in (spec.id_column, spec.event_time_column, *spec.features) if f not in frame.columns]
    if missing:
        raise LakemlError(
            f"customer_features lacks column(s) {', '.join(missing)} the champion was trained on"
        )
    dates = pd.to_datetime(frame[spec.event_time_column])
    latest = dates.max()
    rows = frame.loc[dates == latest, [spec.id_column, *spec.features]].sort_values(spec.id_column)
    # The serving container parses numbers only: booleans go as 0/1 (what XGBoost trained on), nulls as "".
    flags = [name for name in spec.features if rows[name].dtype == bool or str(rows[name].dtype) == "boolean"]
    rows[flags] = rows[flags].astype("Int8")
    out = Path(args.features_output)
    out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(out / "features.csv", header=False, index=False)
    write_json(
        Path(args.champion_output) / "champion.json",
        {
            "model_data_url": uri,
            "version": version,
            "snapshot": str(latest.date()),
            "rows": len(rows),
            "features": list(spec.features),
        },
    )
    print(f"batch input: {len(rows)} customers at snapshot {latest.date()}; champion {uri}", flush=True)
    return 0
