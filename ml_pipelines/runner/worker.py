"""Inside a warm worker process: run job after job as `python -m <module> <args>` would, in this process.

Started by `workers.WorkerPool` as `python -u -m ml_pipelines.runner.worker <fd>`: a fresh interpreter
(spawned, never a fork of a process with threads, and without multiprocessing's re-import of the
parent's `__main__`), in its own session (the pool can kill it with everything a job started), its stdout
and stderr the pipe the pool reads, `<fd>` its end of the control connection (pickled messages,
`multiprocessing.connection`). It says it is ready, then for each `JobSpec` it receives:
- makes the environment exactly the job's (`environ.replaced`: SageMaker's `SM_*` variables, the mapped
  `LAKEML_CONTAINER__OPT_ML`, the job's `Environment`), its working directory and `sys.argv`/`sys.path`
  what `python -m` would give, and restores all of it afterwards (with the signal handlers and the root
  logger's handlers and level, which a job may change);
- runs the module as `__main__` (`runpy`), so the job's entry point, its `run_job` failure file and its
  exit code behave as in a process of its own; what it imported stays imported for the next job;
- writes an end marker on the output pipe and sends the exit code back.
Early stopping asks the running job to stop (`STOP_SIGNAL`: `JobStopped` is raised in it, between two
Python statements — between boosting rounds for XGBoost) and the worker stays warm.
A job that kills the process (SIGKILL, `os._exit`, a segfault) takes only this worker with it: the pool
sees the pipe close, fails that job and starts a new worker for the next one.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import runpy
import signal
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection

from lakeml.core import environ

END = b"\x00lakeml-worker-job-end\x00\n"  # after a job's last output byte, on the output pipe
READY = "ready"
STOP_SIGNAL = signal.SIGUSR1  # the pool asks the running job to stop (early stopping)
STOPPED_CODE = -signal.SIGTERM  # what a stopped job reports: a fresh process would die of SIGTERM
RESTORED_SIGNALS = (STOP_SIGNAL, signal.SIGTERM, signal.SIGINT)  # handlers a job may replace
_running = False  # a job is inside runpy: only then does STOP_SIGNAL raise JobStopped


class JobStopped(BaseException):
    """Raised in the job when the pool stops it early; BaseException so `run_job` does not call it a
    failure, as a process killed by SIGTERM writes no failure file."""


def _stop(signum: int, frame: object) -> None:
    if _running:
        raise JobStopped


@dataclass(frozen=True)
class JobSpec:
    module: str
    argv: list[str]
    environment: dict[str, str]
    cwd: str


def serve(control: Connection) -> None:
    """The worker's main loop: jobs in, exit codes out, until the pool closes the control connection."""
    streams = (sys.stdout, sys.stderr)
    libc = ctypes.CDLL(None)
    signal.signal(STOP_SIGNAL, _stop)
    control.send(READY)
    while True:
        try:
            spec = control.recv()
        except EOFError:  # the pool (or the process holding it) is gone
            spec = None
        if spec is None:
            for stream in streams:
                stream.flush()
            os._exit(0)  # no interpreter teardown of everything the jobs imported
        code = run(spec)
        for stream in (sys.stdout, sys.stderr, *streams):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = streams
        libc.fflush(None)  # C-level output a library left in stdio buffers
        os.write(1, END)
        control.send(code)


def run(spec: JobSpec) -> int:
    """Run one job as `python -m spec.module *spec.argv` would; return its exit code."""
    saved_path, saved_argv, saved_cwd = list(sys.path), list(sys.argv), os.getcwd()
    saved_signals = {number: signal.getsignal(number) for number in RESTORED_SIGNALS}
    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    try:
        with environ.replaced(spec.environment):
            os.chdir(spec.cwd)
            # `python -m` puts the working directory first, then the job's PYTHONPATH
            extra = [p for p in spec.environment.get("PYTHONPATH", "").split(os.pathsep) if p]
            sys.path[:0] = [spec.cwd, *extra]
            sys.argv = [spec.module, *spec.argv]
            return guarded(spec.module)
    finally:
        sys.path[:] = saved_path
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        for number, handler in saved_signals.items():
            signal.signal(number, handler)
        root.handlers[:], root.level = saved_logging[0], saved_logging[1]


def guarded(module: str) -> int:
    """Run the module; a stop request can only interrupt it while `_running` (the outer handler catches
    one that lands in the inner handlers, before `_running` is cleared)."""
    global _running
    try:
        try:
            _running = True
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            return 0
        except JobStopped:
            return STOPPED_CODE
        except SystemExit as exc:
            return exit_code(exc.code)
        except BaseException:  # what the interpreter does with an uncaught exception
            traceback.print_exc()
            return 1
        finally:
            _running = False
    except JobStopped:
        return STOPPED_CODE


def exit_code(value: object) -> int:
    """`sys.exit(value)` as the interpreter turns it into a process exit code."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF  # as the OS reports it: sys.exit(-1) is 255
    print(value, file=sys.stderr)
    return 1


if __name__ == "__main__":
    from ml_pipelines.runner import worker  # one copy of this module: the one JobSpec unpickles into

    worker.serve(Connection(int(sys.argv[1])))
