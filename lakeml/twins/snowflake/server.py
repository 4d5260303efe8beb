"""Lifecycle of the local Snowflake server: start or reuse, health check, stop, stale pid detection.

State lives in `<home>/run/fakesnow.json` ({pid, host, port, db_path}); a file lock serialises
concurrent starts so two commands never launch two servers for one LAKEML_HOME.
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

from lakeml.core.errors import LakemlError
from lakeml.core.settings import Settings

STARTUP_TIMEOUT_S = 30.0
HEALTH_WAIT_S = 30.0  # how long a live but busy server may take to answer before we give up


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    host: str
    port: int
    db_path: str

    def to_json(self) -> dict[str, object]:
        return {"host": self.host, "port": self.port, "pid": self.pid}


def _state_file(settings: Settings) -> Path:
    return settings.run_dir / "fakesnow.json"


@contextlib.contextmanager
def _lock(settings: Settings) -> Iterator[None]:
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.run_dir / "fakesnow.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port(host: str) -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _is_our_process(pid: int) -> bool:
    """True when `pid` is alive and is a lakeml fakesnow server (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True  # no /proc (macOS): trust the pid
    return b"lakeml.twins.snowflake.fakesnow_server" in cmdline


def _answers(host: str, port: int) -> bool:
    """Health check: the server accepts a connection and answers HTTP."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.sendall(b"POST /session HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/1.1")
    except OSError:
        return False


def _recorded(settings: Settings) -> ServerInfo | None:
    """The server recorded in the state file if its process is alive; a stale file (dead pid) is removed."""
    path = _state_file(settings)
    if not path.is_file():
        return None
    try:
        info = ServerInfo(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        path.unlink(missing_ok=True)
        return None
    if not _is_our_process(info.pid):
        path.unlink(missing_ok=True)
        return None
    return info


def running(settings: Settings, wait_s: float = HEALTH_WAIT_S) -> ServerInfo | None:
    """The live server of this LAKEML_HOME, or None. A stale state file (dead pid) is removed.

    A live server that is slow to answer (busy with a large COPY on a loaded machine) is waited for,
    never replaced: a second server on the same DuckDB files would fail or fight over them.
    """
    info = _recorded(settings)
    if info is None:
        return None
    deadline = time.monotonic() + wait_s
    while not _answers(info.host, info.port):
        if not _is_our_process(info.pid):
            _state_file(settings).unlink(missing_ok=True)
            return None
        if time.monotonic() > deadline:
            raise LakemlError(
                f"the local Snowflake server (pid {info.pid}, {info.host}:{info.port}) is running but has not "
                f"answered for {wait_s:.0f} s; wait for it, or run `lakeml source stop` and retry "
                f"(log: {settings.log_dir / 'fakesnow.log'})"
            )
        time.sleep(0.2)
    return info


def ensure_running(settings: Settings) -> ServerInfo:
    """Reuse this home's server if healthy, else start one on a free port and wait until it answers."""
    with _lock(settings):
        info = running(settings)
        if info:
            return info
        settings.source_dir.mkdir(parents=True, exist_ok=True)
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        host = "127.0.0.1"
        port = _free_port(host)
        log = open(settings.log_dir / "fakesnow.log", "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lakeml.twins.snowflake.fakesnow_server",
                "--db-path",
                str(settings.source_dir),
                "--host",
                host,
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LakemlError(
                    f"the local Snowflake server exited with code {process.returncode} at start; "
                    f"see {settings.log_dir / 'fakesnow.log'}"
                )
            if _answers(host, port):
                info = ServerInfo(pid=process.pid, host=host, port=port, db_path=str(settings.source_dir))
                _state_file(settings).write_text(json.dumps(asdict(info)))
                return info
            time.sleep(0.1)
        process.kill()
        raise LakemlError(
            f"the local Snowflake server did not answer on {host}:{port} within {STARTUP_TIMEOUT_S:.0f} s; "
            f"see {settings.log_dir / 'fakesnow.log'}"
        )


def stop(settings: Settings, timeout_s: float = 10.0) -> ServerInfo | None:
    """Stop this home's server (SIGTERM, then SIGKILL). Returns what was stopped, or None."""
    with _lock(settings):
        info = _recorded(settings)  # alive is enough: a server that does not answer is stopped too
        if info is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _is_our_process(info.pid):
            time.sleep(0.05)
        if _is_our_process(info.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(info.pid, signal.SIGKILL)
        _state_file(settings).unlink(missing_ok=True)
        return info
