"""Endpoint latency and throughput on 127.0.0.1: lakeml's server vs in-process predict vs MLflow's server.

One run, same model (XGBoost, 200 trees, depth 6, 30 features), same machine, wrk as the load generator
(`apt-get install wrk`). MLflow runs in its own tool environment (`uvx --from mlflow==<v>`), as a user
who picked it would run it. Reproduce: `make bench` or `.venv/bin/python -m bench serving`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import print_table, write_result

FEATURES = [f"f{i:02d}" for i in range(30)]
CONCURRENCY = (1, 8, 32)
DURATION_S = int(os.environ.get("BENCH_SERVING_SECONDS", "8"))
MLFLOW = os.environ.get("BENCH_MLFLOW_VERSION", "3.17.2")


def train(folder: Path) -> tuple[Any, np.ndarray]:
    import xgboost as xgb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, len(FEATURES))).astype(np.float32)
    y = (x[:, :5].sum(axis=1) + rng.normal(size=len(x)) > 0).astype(int)
    booster = xgb.train(
        {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "nthread": 1},
        xgb.DMatrix(x, label=y, feature_names=FEATURES),
        200,
    )
    folder.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(folder / "xgboost-model.json"))
    return booster, x


def in_process(booster: Any, rows: np.ndarray) -> list[dict[str, Any]]:
    booster.set_param({"nthread": 1})
    results = []
    for batch in (1, 100):
        sample = rows[:batch]
        timings = []
        for _ in range(2000 if batch == 1 else 500):
            started = time.perf_counter()
            booster.inplace_predict(sample)
            timings.append(time.perf_counter() - started)
        p50, p99 = np.percentile(timings, [50, 99]) * 1000
        results.append(
            {
                "server": "in-process inplace_predict",
                "rows": batch,
                "c": 1,
                "rps": round(1 / np.mean(timings)),
                "rows_per_s": round(batch / np.mean(timings)),
                "p50_ms": round(p50, 3),
                "p99_ms": round(p99, 3),
            }
        )
    return results


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(command: list[str], port: int, ping: str) -> Iterator[None]:
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}")
            if (
                subprocess.run(
                    ["curl", "-sf", f"http://127.0.0.1:{port}{ping}"], capture_output=True
                ).returncode
                == 0
            ):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"{' '.join(command[:3])} did not answer in 180 s")
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wrk(port: int, body_file: Path, content_type: str, concurrency: int) -> dict[str, float]:
    script = body_file.with_suffix(".lua")
    script.write_text(
        f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "{content_type}"\n'
        f'local f = io.open("{body_file}", "r")\nwrk.body = f:read("*a")\nf:close()\n'
    )
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(min(concurrency, 2)),
            "-c",
            str(concurrency),
            "-d",
            f"{DURATION_S}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/invocations",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def measure(name: str, port: int, bodies: dict[int, Path], content_type: str) -> list[dict[str, Any]]:
    rows = []
    for batch, body in bodies.items():
        for concurrency in CONCURRENCY:
            result = wrk(port, body, content_type, concurrency)
            rows.append(
                {
                    "server": name,
                    "rows": batch,
                    "c": concurrency,
                    "rps": round(result["rps"]),
                    "rows_per_s": round(result["rps"] * batch),
                    "p50_ms": result["p50_ms"],
                    "p99_ms": result["p99_ms"],
                    "errors": result["errors"],
                }
            )
    return rows


def mlflow_model(model_dir: Path, target: Path) -> list[str] | None:
    """Save the same booster as an MLflow model in MLflow's own environment; None if uvx is missing."""
    uvx = shutil.which("uvx") or str(Path(sys.executable).parent / "uvx")
    if not Path(uvx).exists() and not shutil.which("uvx"):
        return None
    base = [uvx, "--from", f"mlflow=={MLFLOW}", "--with", "xgboost-cpu", "--with", "pandas"]
    code = (
        "import sys, xgboost as xgb, mlflow.xgboost as mx; b = xgb.Booster(); b.load_model(sys.argv[1]); "
        "mx.save_model(b, sys.argv[2])"
    )
    subprocess.run(
        [*base, "python", "-c", code, str(model_dir / "xgboost-model.json"), str(target)],
        check=True,
        capture_output=True,
    )
    return base


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        booster, x = train(root / "model")
        rows = in_process(booster, x)
        bodies = {}
        for batch in (1, 100):
            bodies[batch] = root / f"body-{batch}.csv"
            bodies[batch].write_text("\n".join(",".join(f"{v:.6f}" for v in r) for r in x[:batch]) + "\n")
        port = free_port()
        with running(
            [
                sys.executable,
                "-m",
                "ml_pipelines.serving.server",
                "--model",
                str(root / "model"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            port,
            "/ping",
        ):
            rows += measure("lakeml (starlette, uvloop+httptools)", port, bodies, "text/csv")
        base = mlflow_model(root / "model", root / "mlflow-model")
        if base:
            port = free_port()
            header = ",".join(FEATURES)
            mlflow_bodies = {}
            for batch, body in bodies.items():
                mlflow_bodies[batch] = root / f"mlflow-{batch}.csv"
                mlflow_bodies[batch].write_text(header + "\n" + body.read_text())
            with running(
                [
                    *base,
                    "mlflow",
                    "models",
                    "serve",
                    "-m",
                    str(root / "mlflow-model"),
                    "--env-manager",
                    "local",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                ],
                port,
                "/ping",
            ):
                rows += measure(f"mlflow {MLFLOW} models serve", port, mlflow_bodies, "text/csv")
    print_table("endpoint latency and throughput (127.0.0.1, wrk)", rows)
    ours = {(r["rows"], r["c"]): r for r in rows if r["server"].startswith("lakeml")}
    theirs = {(r["rows"], r["c"]): r for r in rows if r["server"].startswith("mlflow")}
    ratios = [
        {
            "rows": k[0],
            "c": k[1],
            "lakeml_rps": ours[k]["rps"],
            "mlflow_rps": theirs[k]["rps"],
            "ratio": round(ours[k]["rps"] / max(theirs[k]["rps"], 1), 1),
        }
        for k in ours
        if k in theirs
    ]
    print_table("lakeml / mlflow requests per second", ratios)
    write_result(
        "serving",
        "make bench  # or: .venv/bin/python -m bench serving",
        rows,
        packages=("xgboost-cpu", "starlette", "uvicorn", "uvloop", "httptools"),
        ratios=ratios,
        duration_s=DURATION_S,
        load_generator="wrk",
        mlflow=MLFLOW,
    )


if __name__ == "__main__":
    main()
