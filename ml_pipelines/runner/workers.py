"""Warm worker processes for the local runner's jobs: import once, run many jobs.

A tuning step runs 10 training jobs of well under a second each; as fresh processes each one paid the
interpreter start and the imports (pandas, pyarrow, xgboost, lakeml) — seconds per trial. A `WorkerPool`
keeps up to `size` worker processes (`LAKEML_RUNNER__WORKERS`, default: the cores), started lazily on
the first job that needs one and reused by every job of one pipeline execution: trials, and the
processing and training steps around them. Inside, each job still gets SageMaker's container contract
(`worker.run`: its own environment, working directory and `/opt/ml` folder; see `jobs`).

Workers are fresh interpreters (`python -u -m ml_pipelines.runner.worker`, never a fork of this
process and its threads) in their own session. What stays the same as a process per job: the log (the
worker's stdout and stderr are a pipe the pool reads line by line into the job's log, parsing metrics),
the exit code and `output/failure`, early stopping (the job is asked to stop — `worker.JobStopped` — and
the worker stays warm; it is killed if it has not stopped within STOP_GRACE_S), `StoppingCondition`
(the worker is killed with everything the job started, and replaced), and a job that crashes its worker
(SIGKILL, `os._exit`, a segfault) fails alone with the reason while the next job gets a new worker.
Commands that are not `<this python> -m <module>` run as fresh processes, and
`LAKEML_RUNNER__JOB_PROCESSES=fresh` brings back a process per job for everything.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import IO, TYPE_CHECKING

from lakeml.core import environ
from ml_pipelines.runner import worker
from ml_pipelines.runner.launch import Ended, FreshProcesses, Launch, Launcher, OutputParser

if TYPE_CHECKING:
    from ml_pipelines.runner.config import RunnerConfig

WORKER_MODULE = "ml_pipelines.runner.worker"
CLOSE_TIMEOUT_S = 10.0
STOP_GRACE_S = 10.0  # a job asked to stop early that has not ended by then is killed with its worker


def died(code: int) -> str:
    """How a worker process ended, in words."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


class WorkerStartFailed(RuntimeError):
    """A worker process ended before it was ready (its output says why)."""


class Worker:
    """One warm worker process, seen from the pool: its control connection and its output pipe."""

    def __init__(self, python: str) -> None:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self.process = subprocess.Popen(
                [python, "-u", "-m", WORKER_MODULE, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env=environ.child(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.control = Connection(ours.detach())
        assert self.process.stdout is not None
        self.output: IO[bytes] = self.process.stdout
        self.alive = True
        try:
            ready = self.control.recv()
        except (EOFError, OSError):
            ready = None
        if ready != worker.READY:
            output = self.output.read().decode("utf-8", "replace").strip()[-1500:]
            self.close()
            raise WorkerStartFailed(f"a job worker could not start ({died(self.exitcode())}): {output}")
        self.jobs = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    def exitcode(self) -> int:
        return self.process.wait()

    def kill(self) -> None:
        """Kill the worker and everything its job started (it leads its own session)."""
        self.alive = False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def stop(self) -> threading.Timer:
        """Ask the running job to stop (it raises `JobStopped`); kill the worker if it has not ended
        within the grace period. Returns the grace timer, to cancel when the job ends."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, worker.STOP_SIGNAL)
        grace = threading.Timer(STOP_GRACE_S, self.kill)
        grace.start()
        return grace

    def run(self, job: Launch, started: float) -> Ended:
        module, *argv = job.command[2:]
        job.log.parent.mkdir(parents=True, exist_ok=True)
        self.jobs += 1
        graces: list[threading.Timer] = []
        with open(job.log, "w") as log:
            parser = OutputParser(log, job, stop=lambda: graces.append(self.stop()))

            def timeout() -> None:
                parser.stopped.set()
                self.kill()

            timer = threading.Timer(job.timeout_s, timeout) if job.timeout_s else None
            if timer:
                timer.start()
            finished = False
            try:
                self.control.send(worker.JobSpec(module, argv, job.environment, job.cwd))
                for raw in self.output:
                    end = raw.find(worker.END)
                    if end >= 0:
                        if end:
                            parser.line(raw[:end].decode("utf-8", "replace"))
                        finished = True
                        break
                    parser.line(raw.decode("utf-8", "replace"))
                code = int(self.control.recv()) if finished else None
            except (EOFError, OSError):
                code = None
            finally:
                for pending in [timer, *graces]:
                    if pending:
                        pending.cancel()
        if code is not None:
            return Ended(code, parser.metrics, parser.stopped.is_set(), started)
        self.kill()
        code = self.exitcode()
        stopped = parser.stopped.is_set()
        return Ended(code, parser.metrics, stopped, started, worker_died=None if stopped else died(code))

    def close(self) -> None:
        """Ask the worker to leave; kill it if it does not."""
        with contextlib.suppress(OSError, ValueError):
            self.control.send(None)
        try:
            self.process.wait(CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
        self.alive = False
        self.control.close()
        self.output.close()


class WorkerPool:
    """Up to `size` warm workers; jobs take an idle one, or start one while fewer than `size` exist."""

    def __init__(self, size: int, python: str) -> None:
        self.size = max(1, size)
        self.python = python
        self.fresh = FreshProcesses()
        self.idle: list[Worker] = []
        self.count = 0  # workers that exist (idle or busy)
        self.started = 0  # workers started so far (a replaced worker counts again)
        self.closed = False
        self.condition = threading.Condition()

    def launch(self, job: Launch) -> Ended:
        if len(job.command) < 3 or job.command[:2] != [self.python, "-m"]:
            return self.fresh.launch(job)  # only `<this python> -m <module>` runs in a worker
        current, started = self.acquire()
        healthy = False
        try:
            ended = current.run(job, started)
            healthy = current.alive and ended.worker_died is None
            return ended
        finally:
            self.release(current, healthy)

    def acquire(self) -> tuple[Worker, float]:
        """An idle worker, or a new one while fewer than `size` exist (else wait for one to be released),
        and the moment the job's time starts: starting a worker counts as the job's, waiting does not."""
        with self.condition:
            while True:
                while not self.idle and self.count >= self.size:
                    self.condition.wait()
                if not self.idle:
                    break
                current = self.idle.pop()
                if current.process.poll() is None:
                    return current, time.monotonic()
                current.close()  # died while idle (killed from outside): start another
                self.count -= 1
            self.count += 1
            self.started += 1
        started = time.monotonic()
        try:
            return Worker(self.python), started
        except BaseException:
            with self.condition:
                self.count -= 1
                self.condition.notify()
            raise

    def release(self, current: Worker, healthy: bool) -> None:
        with self.condition:
            keep = healthy and not self.closed
            if keep:
                self.idle.append(current)
            else:
                self.count -= 1
            self.condition.notify()
        if not keep:
            current.close()

    def close(self) -> None:
        with self.condition:
            self.closed = True
            idle, self.idle = self.idle, []
            self.count -= len(idle)
        for item in idle:
            item.close()


@contextlib.contextmanager
def launcher(config: RunnerConfig) -> Iterator[Launcher]:
    """The launcher for one pipeline execution: a warm pool (closed at the end) or fresh processes."""
    if config.job_processes == "fresh":
        yield FreshProcesses()
        return
    pool = WorkerPool(config.workers or os.cpu_count() or 1, config.python)
    try:
        yield pool
    finally:
        pool.close()
