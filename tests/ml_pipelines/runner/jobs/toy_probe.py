"""A training job for the warm-worker tests: says which process ran it and what it sees, and can crash
its process, raise, hang, linger after its metrics or leave things behind on demand (hyperparameter
`mode`, optionally `<mode>:<objective>`).

Prints `pid=<pid>`, `cwd=<dir>`, `seen <NAME>=<value or -> ` for each name in hyperparameter `show`
(comma-separated), then `validation-objective=<x>` once per epoch; writes `model/probe.json` with the same facts."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import threading
from pathlib import Path

from lakeml.jobs.runtime import Job, run_job


def main(job: Job, argv: list[str] | None = None) -> int:
    config = Path(os.environ["SM_INPUT_CONFIG_DIR"]) / "hyperparameters.json"
    hyperparameters = json.loads(config.read_text())
    mode, _, x = hyperparameters.get("mode", "ok").partition(":")  # e.g. "linger:0.1"
    x = x or hyperparameters.get("x", "0.5")
    seen = {name: os.environ.get(name, "-") for name in hyperparameters.get("show", "").split(",") if name}
    facts = {"pid": os.getpid(), "cwd": os.getcwd(), "seen": seen, "argv": sys.argv[1:]}
    print(f"pid={facts['pid']}", flush=True)
    print(f"cwd={facts['cwd']}", flush=True)
    for name, value in seen.items():
        print(f"seen {name}={value}", flush=True)
    if hyperparameters.get("export"):  # leave a variable behind, as a careless library would
        name, _, value = hyperparameters["export"].partition("=")
        os.environ[name] = value
    if hyperparameters.get("chdir"):  # leave the working directory elsewhere
        os.chdir(hyperparameters["chdir"])
    if mode == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "exit":
        os._exit(7)
    if mode == "segfault":
        ctypes.string_at(0)
    if mode == "raise":
        raise RuntimeError("the probe was asked to raise")
    if mode == "hang":
        threading.Event().wait()
    for epoch in range(1, int(hyperparameters.get("epochs", "1")) + 1):
        print(f"[{epoch}] validation-objective={float(x):.6f}", flush=True)
    if mode == "linger":  # wait to be stopped (early stopping) after reporting
        threading.Event().wait()
    Path(os.environ["SM_MODEL_DIR"], "probe.json").write_text(json.dumps(facts))
    return 0


if __name__ == "__main__":
    run_job(main)
