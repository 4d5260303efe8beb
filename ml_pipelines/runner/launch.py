"""Starting a job's command line: what the job functions (`jobs`) hand over, and how a launch ended.

A `Launch` is the image's command (mapped to this machine by `config.command`), the job's complete
environment, its log file and its limits. Two launchers run it:
- `FreshProcesses`: a new process per job, like a new container per SageMaker job (the escape hatch,
  `LAKEML_RUNNER__JOB_PROCESSES=fresh`);
- `workers.WorkerPool`: warm worker processes that import once and run job after job (the default).
Both stream the job's output to its log line by line through the same `OutputParser`, which reads
metrics with the MetricDefinitions regexes as SageMaker reads its logs and asks `on_metric` whether to
stop the job early (tuning's early stopping), so metric series, logs and early stopping are the same.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

MetricCallback = Callable[[str, float, int], bool]  # (name, value, count) -> stop the job now?


@dataclass(frozen=True)
class Launch:
    command: list[str]
    environment: dict[str, str]  # the job's whole environment (this process's, plus the job's own variables)
    log: Path
    timeout_s: float | None = None  # StoppingCondition.MaxRuntimeInSeconds
    metric_definitions: list[dict[str, str]] = field(default_factory=list)
    on_metric: MetricCallback | None = None
    cwd: str = field(default_factory=os.getcwd)  # a fresh process would inherit this one's


@dataclass
class Ended:
    code: int  # exit code; negative: killed by that signal
    metrics: dict[str, list[float]]
    stopped: bool  # stopped early by on_metric, or at MaxRuntimeInSeconds
    started: float  # time.monotonic() when the job was handed to its process
    worker_died: str | None = None  # warm workers only: how the worker died with the job in it


class Launcher(Protocol):
    def launch(self, job: Launch) -> Ended:
        """Run the job to its end (or its stop) and say how it ended."""
        ...


class OutputParser:
    """One job's output: written to its log as it comes, metrics parsed line by line."""

    def __init__(self, log: TextIO, job: Launch, stop: Callable[[], None]) -> None:
        self.log = log
        self.patterns = [(m["Name"], re.compile(m["Regex"])) for m in job.metric_definitions]
        self.metrics: dict[str, list[float]] = {name: [] for name, _ in self.patterns}
        self.on_metric = job.on_metric
        self.stop = stop
        self.stopped = threading.Event()

    def line(self, text: str) -> None:
        self.log.write(text)
        for name, pattern in self.patterns:
            match = pattern.search(text)
            if not match:
                continue
            try:
                value = float(match.group(1))
            except (IndexError, ValueError):
                continue
            self.metrics[name].append(value)
            stop = bool(self.on_metric and self.on_metric(name, value, len(self.metrics[name])))
            if stop and not self.stopped.is_set():
                self.stopped.set()
                self.stop()


class FreshProcesses:
    """A new process per job, in its own session so a stop or a timeout kills everything it started."""

    def launch(self, job: Launch) -> Ended:
        job.log.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(job.log, "w") as log:
            process = subprocess.Popen(
                job.command,
                env=job.environment,
                cwd=job.cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                bufsize=1,
                start_new_session=True,
            )

            def kill(sig: int) -> None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, sig)

            parser = OutputParser(log, job, stop=lambda: kill(signal.SIGTERM))

            def timeout() -> None:
                parser.stopped.set()
                kill(signal.SIGKILL)

            timer = threading.Timer(job.timeout_s, timeout) if job.timeout_s else None
            if timer:
                timer.start()
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    parser.line(line)
                code = process.wait()
            finally:
                if timer:
                    timer.cancel()
                if process.poll() is None:
                    kill(signal.SIGKILL)
                    process.wait()
        return Ended(code, parser.metrics, parser.stopped.is_set(), started)
