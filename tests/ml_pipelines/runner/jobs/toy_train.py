"""A training job for runner tests: the objective peaks at x = 0.3; prints one metric line per epoch."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    config = Path(os.environ["SM_INPUT_CONFIG_DIR"]) / "hyperparameters.json"
    hyperparameters = json.loads(config.read_text())
    x = float(hyperparameters.get("x", "0.5"))
    epochs = int(hyperparameters.get("epochs", "3"))
    train = Path(os.environ["SM_CHANNEL_TRAIN"])
    rows = sum(1 for f in train.iterdir() for _ in f.open())
    print(f"cpus={os.environ['SM_NUM_CPUS']} omp={os.environ['OMP_NUM_THREADS']}", flush=True)
    print(f"pid={os.getpid()}", flush=True)
    best = 1.0 - (x - 0.3) ** 2
    for epoch in range(1, epochs + 1):
        print(f"[{epoch}] validation-objective={best - 0.5 / epoch:.6f}", flush=True)
        time.sleep(float(hyperparameters.get("sleep", "0")))
    model = Path(os.environ["SM_MODEL_DIR"])
    (model / "model.json").write_text(json.dumps({"x": x, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
