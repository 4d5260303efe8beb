"""Endpoint latency and throughput on 127.0.0.1: lakeml's server vs in-process predict vs MLflow's server.

One run, same model (XGBoost, 200 trees, depth 6, 30 features), same machine, wrk as the load generator
(`apt-get install wrk`). Two floors frame lakeml's numbers: in-process `inplace_predict` (the model alone)
and a bare Starlette app on the same uvicorn (uvloop + httptools) that reads the body and returns a fixed
answer (HTTP alone). All servers run at once and each cell is measured in rounds that visit in-process
predict and every server in turn, so they share the machine's load (this machine is often shared): the
ratios are from the same minutes, and each server's CPU per request (its process's CPU time over the
requests it answered) is recorded beside the latencies. MLflow runs in its own tool environment (`uvx --from mlflow==<v>`), as a user who
picked it would run it; uvx is the project's uv (found as the Makefile finds it). A peer that cannot run
is printed and recorded as skipped with the reason, never dropped.
Reproduce: `make bench` or `.venv/bin/python -m bench serving`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import print_table, write_result

REPO = Path(__file__).resolve().parents[1]
FEATURES = [f"f{i:02d}" for i in range(30)]
CONCURRENCY = (1, 8, 32)
DURATION_S = int(os.environ.get("BENCH_SERVING_SECONDS", "8"))  # per cell and server, over all rounds
ROUNDS = int(os.environ.get("BENCH_SERVING_ROUNDS", "4"))
LAKEML = "lakeml (starlette, uvloop+httptools)"
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


def in_process(booster: Any, sample: np.ndarray, seconds: float) -> dict[str, float]:
    """`inplace_predict` on `sample` back to back for `seconds`: the model alone, no HTTP."""
    booster.set_param({"nthread": 1})
    timings = []
    cpu_started = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        booster.inplace_predict(sample)
        timings.append(time.perf_counter() - started)
    p50, p99 = np.percentile(timings, [50, 99]) * 1000
    return {
        "rps": 1 / float(np.mean(timings)),
        "p50_ms": round(float(p50), 3),
        "p99_ms": round(float(p99), 3),
        "requests": len(timings),
        "cpu": time.process_time() - cpu_started,
        "errors": 0,
    }


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(command: list[str], port: int, ping: str) -> Iterator[int]:
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
        yield process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wrk(port: int, body_file: Path, content_type: str, concurrency: int, seconds: float) -> dict[str, float]:
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
            f"{max(round(seconds), 1)}s",
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
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a server and its children (MLflow serves from worker processes)."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def summary(name: str, batch: int, concurrency: int, rounds: list[dict[str, float]]) -> dict[str, Any]:
    """One table row from a cell's rounds: medians of rate and percentiles, CPU over all requests."""
    rps = statistics.median(r["rps"] for r in rounds)
    return {
        "server": name,
        "rows": batch,
        "c": concurrency,
        "rps": round(rps),
        "rows_per_s": round(rps * batch),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in rounds), 3),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in rounds), 3),
        "cpu_us_per_request": round(
            sum(r["cpu"] for r in rounds) / max(sum(r["requests"] for r in rounds), 1) * 1e6
        ),
        "errors": int(sum(r["errors"] for r in rounds)),
    }


@dataclass
class Server:
    """A running server under test: where it listens, its process, and the bodies it is sent."""

    name: str
    port: int
    pid: int
    bodies: dict[int, Path]

    def round(self, batch: int, concurrency: int, seconds: float) -> dict[str, float]:
        """One wrk run, with the server's CPU per request (its own CPU over the requests it answered):
        on a machine shared with other work latency is the machine's as much as the server's, CPU much
        less so."""
        cpu_before = cpu_seconds(self.pid)
        result = wrk(self.port, self.bodies[batch], "text/csv", concurrency, seconds)
        return {**result, "cpu": cpu_seconds(self.pid) - cpu_before}


def interleaved(booster: Any, x: np.ndarray, servers: list[Server]) -> list[dict[str, Any]]:
    """Every cell in ROUNDS rounds, each round visiting in-process predict and every server in turn, so
    all of them see the same machine: the ratios hold on a loaded machine, the absolute numbers do not."""
    seconds = max(DURATION_S / ROUNDS, 1.0)
    rows = []
    for batch in (1, 100):
        for concurrency in CONCURRENCY:
            samples: dict[str, list[dict[str, float]]] = {s.name: [] for s in servers}
            model: list[dict[str, float]] = []
            for _ in range(ROUNDS):
                if concurrency == 1:
                    model.append(in_process(booster, x[:batch], seconds / 2))
                for server in servers:
                    samples[server.name].append(server.round(batch, concurrency, seconds))
            if model:
                rows.append(summary("in-process inplace_predict", batch, 1, model))
            rows += [summary(name, batch, concurrency, got) for name, got in samples.items()]
            print(f"  rows={batch} c={concurrency} done", flush=True)
    return rows


def find_uvx() -> tuple[list[str] | None, str]:
    """The command that runs a tool environment, and where it was found (or why there is none): uvx on
    PATH, else the project's uv as the Makefile finds it (`command -v uv`, `.tools/uv/bin/uv`), else
    `~/.local/bin` (uv's own installer), else beside this Python."""
    if found := shutil.which("uvx"):
        return [found], found
    candidates = [Path(p) for p in (shutil.which("uv"),) if p] + [
        REPO / ".tools" / "uv" / "bin" / "uv",
        Path.home() / ".local" / "bin" / "uv",
        Path(sys.executable).parent / "uv",
    ]
    for uv in candidates:
        if uv.is_file() and os.access(uv, os.X_OK):
            return [str(uv), "tool", "run"], f"{uv} tool run"
    looked = ", ".join(str(c) for c in candidates)
    return None, f"no uvx on PATH and no uv at {looked}: run `make setup` (it installs uv)"


def mlflow_model(uvx: list[str], model_dir: Path, target: Path) -> list[str]:
    """Save the same booster as an MLflow model in MLflow's own environment; the command prefix for it."""
    base = [*uvx, "--from", f"mlflow=={MLFLOW}", "--with", "xgboost-cpu", "--with", "pandas"]
    code = (
        "import sys, xgboost as xgb, mlflow.xgboost as mx; b = xgb.Booster(); b.load_model(sys.argv[1]); "
        "mx.save_model(b, sys.argv[2])"
    )
    done = subprocess.run(
        [*base, "python", "-c", code, str(model_dir / "xgboost-model.json"), str(target)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"saving the MLflow model failed: {done.stderr.strip()[-300:]}")
    return base


BARE_SERVER = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
ANSWER = b'{"predictions":[0.5],"model_version":"bare","variant":"AllTraffic"}'
async def ping(request):
    return Response(b"{}", media_type="application/json")
async def invocations(request):
    await request.body()
    return Response(ANSWER, media_type="application/json")
app = Starlette(routes=[Route("/ping", ping), Route("/invocations", invocations, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools", access_log=False,
            log_level="warning")
"""


def skipped(server: str, reason: str) -> dict[str, Any]:
    print(f"  {server}: skipped ({reason})", flush=True)
    return {
        "server": server,
        "rows": None,
        "c": None,
        "rps": None,
        "rows_per_s": None,
        "p50_ms": None,
        "p99_ms": None,
        "errors": None,
        "skipped": reason,
    }


def start_mlflow(stack: contextlib.ExitStack, root: Path, bodies: dict[int, Path]) -> Server | dict[str, Any]:
    """MLflow's `models serve` on the same model, started in `stack`; or a row saying why it was skipped."""
    name = f"mlflow {MLFLOW} models serve"
    uvx, where = find_uvx()
    if uvx is None:
        return skipped(name, where)
    print(f"  mlflow via {where}", flush=True)
    try:
        base = mlflow_model(uvx, root / "model", root / "mlflow-model")
        port = free_port()
        header = ",".join(FEATURES)
        mlflow_bodies = {}
        for batch, body in bodies.items():
            mlflow_bodies[batch] = root / f"mlflow-{batch}.csv"
            mlflow_bodies[batch].write_text(header + "\n" + body.read_text())
        command = [*base, "mlflow", "models", "serve", "-m", str(root / "mlflow-model"), "--env-manager",
                   "local", "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
        pid = stack.enter_context(running(command, port, "/ping"))
        return Server(name, port, pid, mlflow_bodies)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return skipped(name, f"{type(exc).__name__}: {exc}"[:400])


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)
        booster, x = train(root / "model")
        bodies = {}
        for batch in (1, 100):
            bodies[batch] = root / f"body-{batch}.csv"
            bodies[batch].write_text("\n".join(",".join(f"{v:.6f}" for v in r) for r in x[:batch]) + "\n")
        port = free_port()
        bare = stack.enter_context(running([sys.executable, "-c", BARE_SERVER, str(port)], port, "/ping"))
        servers = [Server("bare starlette (fixed answer)", port, bare, bodies)]
        port = free_port()
        serve = [sys.executable, "-m", "ml_pipelines.serving.server", "--model", str(root / "model"), "--host",
                 "127.0.0.1", "--port", str(port)]  # fmt: skip
        servers.append(Server(LAKEML, port, stack.enter_context(running(serve, port, "/ping")), bodies))
        mlflow = start_mlflow(stack, root, bodies)
        if isinstance(mlflow, Server):
            servers.append(mlflow)
        rows = interleaved(booster, x, servers)
        if not isinstance(mlflow, Server):
            rows.append(mlflow)
    print_table("endpoint latency and throughput (127.0.0.1, wrk)", rows)
    ours = {(r["rows"], r["c"]): r for r in rows if r["server"].startswith("lakeml")}
    theirs = {
        (r["rows"], r["c"]): r for r in rows if r["server"].startswith("mlflow") and not r.get("skipped")
    }
    floor = {(r["rows"], r["c"]): r for r in rows if r["server"].startswith("bare")}
    model = {r["rows"]: r for r in rows if r["server"].startswith("in-process")}
    ratios = [
        {
            "rows": k[0],
            "c": k[1],
            "lakeml_rps": ours[k]["rps"],
            "mlflow_rps": theirs[k]["rps"],
            "ratio": round(ours[k]["rps"] / max(theirs[k]["rps"], 1), 1),
            "cpu_ratio": round(theirs[k]["cpu_us_per_request"] / max(ours[k]["cpu_us_per_request"], 1), 1),
        }
        for k in ours
        if k in theirs
    ]
    print_table("lakeml / mlflow requests per second", ratios)
    against = [
        {
            "rows": k[0],
            "c": k[1],
            "lakeml_rows_per_s": ours[k]["rows_per_s"],
            "vs_in_process": round(ours[k]["rows_per_s"] / model[k[0]]["rows_per_s"], 2),
            "vs_bare_starlette_rps": round(ours[k]["rps"] / floor[k]["rps"], 2) if k in floor else None,
            "cpu_us": ours[k]["cpu_us_per_request"],
            "cpu_vs_in_process": round(model[k[0]]["cpu_us_per_request"] / ours[k]["cpu_us_per_request"], 2),
            "cpu_us_bare": floor[k]["cpu_us_per_request"] if k in floor else None,
            "lakeml_p99_ms": ours[k]["p99_ms"],
            "bare_p99_ms": floor[k]["p99_ms"] if k in floor else None,
        }
        for k in ours
    ]
    print_table("lakeml against its floors (in-process predict, bare starlette)", against)
    for row in rows:
        if row.get("skipped"):
            print(f"\n{row['server']}: SKIPPED - {row['skipped']}")
    write_result(
        "serving",
        "make bench  # or: .venv/bin/python -m bench serving",
        rows,
        packages=("xgboost-cpu", "starlette", "uvicorn", "uvloop", "httptools"),
        ratios=ratios,
        against_floors=against,
        duration_s=DURATION_S,
        load_generator="wrk",
        mlflow=MLFLOW,
        load_average=[round(v, 1) for v in os.getloadavg()],  # 1, 5, 15 min at the end
    )


if __name__ == "__main__":
    main()
