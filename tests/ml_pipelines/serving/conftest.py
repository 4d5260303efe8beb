"""A small trained model and a real server process on 127.0.0.1, stopped after the test."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

FEATURES = [f"feature_{i}" for i in range(8)]


def train_model(folder: Path, seed: int = 0, rounds: int = 20) -> Path:
    import xgboost as xgb

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(500, len(FEATURES)))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.5, size=500) > 0).astype(int)
    booster = xgb.train(
        {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 3, "seed": seed},
        xgb.DMatrix(x, label=y, feature_names=FEATURES),
        rounds,
    )
    folder.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(folder / "xgboost-model.json"))
    return folder


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(
                method, path, body=body.encode() if isinstance(body, str) else body, headers=headers or {}
            )
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def invoke(
        self, body: bytes | str, content_type: str = "text/csv", **headers: str
    ) -> tuple[int, dict, bytes]:
        return self.request("POST", "/invocations", body, {"Content-Type": content_type, **headers})

    def json(self, body: bytes | str, content_type: str = "text/csv", **headers: str) -> dict:
        status, _, payload = self.invoke(body, content_type, **headers)
        assert status == 200, payload
        return json.loads(payload)


@contextlib.contextmanager
def serve(*args: str) -> Iterator[tuple[Client, subprocess.Popen]]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ml_pipelines.serving.server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = Client(port)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited: {process.stdout.read().decode() if process.stdout else ''}"
                )
            with contextlib.suppress(OSError):
                if client.request("GET", "/ping", timeout=1)[0] == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not answer /ping within 60 s")
        yield client, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "blue": train_model(root / "blue", seed=0),
        "green": train_model(root / "green", seed=1, rounds=30),
    }
