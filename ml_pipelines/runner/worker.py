"""Inside a warm worker process: run job after job as `python -m <module> <args>` would, in this process.

Started by `workers.WorkerPool` (multiprocessing's 'spawn': a fresh interpreter, never a fork of a
process with threads). The worker becomes a session leader (so the pool can kill it with everything a
job started), points its stdout and stderr at the pipe the pool reads, says it is ready, then for each
`JobSpec` it receives:
- makes the environment exactly the job's (`environ.replaced`: SageMaker's `SM_*` variables, the mapped
  `LAKEML_CONTAINER__OPT_ML`, the job's `Environment`), its working directory and `sys.argv`/`sys.path`
  what `python -m` would give, and restores all of it afterwards;
- runs the module as `__main__` (`runpy`), so the job's entry point, its `run_job` failure file and its
  exit code behave as in a process of its own; what it imported stays imported for the next job;
- writes an end marker on the output pipe and sends the exit code back.
A job that kills the process (SIGKILL, `os._exit`, a segfault) takes only this worker with it: the pool
sees the pipe close, fails that job and starts a new worker for the next one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import runpy
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection

from lakeml.core import environ

END = b"\x00lakeml-worker-job-end\x00\n"  # after a job's last output byte, on the output pipe
READY = "ready"


@dataclass(frozen=True)
class JobSpec:
    module: str
    argv: list[str]
    environment: dict[str, str]
    cwd: str


def serve(control: Connection, output: Connection) -> None:
    """The worker's main loop (the target of the pool's Process)."""
    os.setsid()
    os.dup2(output.fileno(), 1)
    os.dup2(output.fileno(), 2)
    output.close()
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    streams = (sys.stdout, sys.stderr)
    libc = ctypes.CDLL(None)
    control.send(READY)
    while True:
        try:
            spec = control.recv()
        except EOFError:  # the pool (or the process holding it) is gone
            return
        if spec is None:
            return
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
    try:
        with environ.replaced(spec.environment):
            os.chdir(spec.cwd)
            sys.path.insert(0, spec.cwd)  # `python -m` puts the working directory first
            sys.argv = [spec.module, *spec.argv]
            try:
                runpy.run_module(spec.module, run_name="__main__", alter_sys=True)
            except SystemExit as exc:
                return exit_code(exc.code)
            except BaseException:  # what the interpreter does with an uncaught exception
                traceback.print_exc()
                return 1
            return 0
    finally:
        sys.path[:] = saved_path
        sys.argv = saved_argv
        os.chdir(saved_cwd)


def exit_code(value: object) -> int:
    """`sys.exit(value)` as the interpreter turns it into a process exit code."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF  # as the OS reports it: sys.exit(-1) is 255
    print(value, file=sys.stderr)
    return 1
