"""Lifecycle of the local Glue twin, as the Snowflake twin's: one server per LAKEML_HOME, started on a
free port of 127.0.0.1 or reused, stale pid files detected, stopped with its process group.

State: `<home>/run/glue.json` ({pid, host, port, lake}); a file lock serialises starts. The twin's Spark
keeps its metastore and warehouse in `<home>/glue/` (never the local target's `<home>/spark/`: two JVMs
cannot share one Derby metastore) and writes the lake folder `<home>/lake`; log: `<home>/logs/glue.log`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from lakeml.core import environ
from lakeml.core.errors import LakemlError
from lakeml.core.lake.local import PLACEHOLDER_BUCKET
from lakeml.core.settings import Settings
from lakeml.transform.java import ensure_java_home
from lakeml.transform.project import SPARK_CONF_DIR

STARTUP_TIMEOUT_S = 180.0  # a JVM, Spark and a Derby metastore on 2 busy cores
MODULE = "lakeml.twins.glue.server"


@dataclass(frozen=True)
class GlueServer:
    pid: int
    host: str
    port: int
    lake: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def to_json(self) -> dict[str, object]:
        return {"host": self.host, "port": self.port, "pid": self.pid, "url": self.url, "lake": self.lake}


def state_dir(settings: Settings) -> Path:
    return settings.home / "glue"


def lake_buckets(settings: Settings) -> list[str]:
    """The buckets whose S3 URIs are the local lake folder (as `LocalLake` maps them)."""
    return sorted({PLACEHOLDER_BUCKET, *([settings.aws.lake_bucket] if settings.aws.lake_bucket else [])})


def _state_file(settings: Settings) -> Path:
    return settings.run_dir / "glue.json"


@contextlib.contextmanager
def _lock(settings: Settings) -> Iterator[None]:
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.run_dir / "glue.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port(host: str) -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _is_ours(pid: int) -> bool:
    try:
        return MODULE.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True  # no /proc (macOS): trust the pid


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2.0) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def running(settings: Settings) -> GlueServer | None:
    """This home's live twin, or None; a stale state file (dead process) is removed."""
    path = _state_file(settings)
    if not path.is_file():
        return None
    try:
        info = GlueServer(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        path.unlink(missing_ok=True)
        return None
    if not _is_ours(info.pid) or not _answers(info.host, info.port):
        if _is_ours(info.pid):  # alive but deaf: not ours to wait on forever
            with contextlib.suppress(ProcessLookupError):
                os.killpg(info.pid, signal.SIGKILL)
        path.unlink(missing_ok=True)
        return None
    return info


def ensure_running(settings: Settings) -> GlueServer:
    """Reuse this home's twin, else start one on a free port and wait until it answers."""
    with _lock(settings):
        info = running(settings)
        if info:
            return info
        java_home = ensure_java_home()
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        settings.lake_dir.mkdir(parents=True, exist_ok=True)
        host, port = "127.0.0.1", _free_port("127.0.0.1")
        knobs = settings.transform
        command = [
            sys.executable,
            "-m",
            MODULE,
            "--host",
            host,
            "--port",
            str(port),
            "--lake",
            str(settings.lake_dir),
            "--state-dir",
            str(state_dir(settings)),
            "--cores",
            str(knobs.spark_cores),
            "--driver-memory",
            knobs.spark_driver_memory,
            "--shuffle-partitions",
            str(knobs.spark_shuffle_partitions),
            f"--jit-options={knobs.spark_jit_options}",
        ]
        for bucket in lake_buckets(settings):
            command += ["--bucket", bucket]
        log_path = settings.log_dir / "glue.log"
        log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=environ.child({"JAVA_HOME": str(java_home), "SPARK_CONF_DIR": str(SPARK_CONF_DIR)}),
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LakemlError(
                    f"the local Glue twin exited with code {process.returncode} at start; see {log_path}"
                )
            if _answers(host, port):
                info = GlueServer(pid=process.pid, host=host, port=port, lake=str(settings.lake_dir))
                _state_file(settings).write_text(json.dumps(asdict(info)))
                return info
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        raise LakemlError(
            f"the local Glue twin did not answer on {host}:{port} within {STARTUP_TIMEOUT_S:.0f} s; see {log_path}"
        )


def stop(settings: Settings, timeout_s: float = 20.0) -> GlueServer | None:
    """Stop this home's twin (SIGTERM to its process group, then SIGKILL); what was stopped, or None."""
    with _lock(settings):
        path = _state_file(settings)
        try:
            info = GlueServer(**json.loads(path.read_text())) if path.is_file() else None
        except (ValueError, TypeError):
            info = None
        if info is None or not _is_ours(info.pid):
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _is_ours(info.pid):
            time.sleep(0.05)
        if _is_ours(info.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(info.pid, signal.SIGKILL)
        path.unlink(missing_ok=True)
        return info
