"""Glue interactive sessions over one local Spark: each session is a `SparkSession.newSession()` of the
twin's Spark (its own SQL conf and temporary views, the shared catalog) and a Python namespace in which
its statements run, one at a time in submission order, as in Glue.

A statement's output has Glue's shape: `Status` ok with what the code printed (plus the value of a
trailing expression, as in a notebook) in `Data.TextPlain`, or `Status` error with `ErrorName`,
`ErrorValue` and `Traceback`. Statement code and output pass through the lake map (`paths.py`): the
client writes and reads S3 URIs of the lake bucket, Spark reads and writes the lake folder.
"""

from __future__ import annotations

import ast
import contextlib
import io
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from lakeml.twins.glue.paths import LakeMap

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# GetStatement waits up to this long for a running statement to finish before answering, so a client
# polling every second (dbt-glue's minimum) gets the result as soon as it exists instead of a poll later.
LONG_POLL_S = 20.0


class ThreadStdout(io.TextIOBase):
    """sys.stdout that a thread can capture for itself (statements of several sessions run at once)."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self.local = threading.local()

    def write(self, text: str) -> int:
        buffer = getattr(self.local, "buffer", None)
        return (buffer or self.fallback).write(text)

    def flush(self) -> None:
        self.fallback.flush()

    def capture(self, buffer: io.StringIO | None) -> None:
        self.local.buffer = buffer


_stdout: ThreadStdout | None = None


def thread_stdout() -> ThreadStdout:
    """Install (once) and return the capturing sys.stdout."""
    global _stdout
    if _stdout is None:
        _stdout = ThreadStdout(sys.stdout)
        sys.stdout = _stdout
    return _stdout


@dataclass
class Statement:
    id: int
    code: str
    state: str = "WAITING"  # WAITING | RUNNING | AVAILABLE | CANCELLING | CANCELLED | ERROR
    output: dict[str, Any] | None = None
    started: float = 0.0
    completed: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "Id": self.id,
            "Code": self.code,
            "State": self.state,
            "Progress": 1.0 if self.done.is_set() else 0.0,
        }
        if self.output is not None:
            doc["Output"] = self.output
        if self.started:
            doc["StartedOn"] = int(self.started * 1000)
        if self.completed:
            doc["CompletedOn"] = int(self.completed * 1000)
        return doc


class Session:
    """One Glue session: its request as created, its state, its statements and the worker running them."""

    def __init__(self, request: dict[str, Any], spark: SparkSession, lake: LakeMap) -> None:
        self.id: str = request["Id"]
        self.request = request
        self.created = time.time()
        self.status = "PROVISIONING"
        self.spark = spark.newSession()
        self.lake = lake
        self.statements: dict[int, Statement] = {}
        self.pending: queue.Queue[Statement | None] = queue.Queue()
        self.namespace: dict[str, Any] = {
            "__name__": "__main__",
            "spark": self.spark,
            "sc": self.spark.sparkContext,
        }
        self.lock = threading.Lock()
        for key, value in spark_confs(request.get("DefaultArguments", {})):
            with contextlib.suppress(Exception):  # a static conf (fixed at Spark's start) cannot be set
                self.spark.conf.set(key, value)
        self.worker = threading.Thread(target=self._work, name=f"glue-session-{self.id}", daemon=True)
        self.worker.start()
        self.status = "READY"

    @property
    def busy(self) -> bool:
        return any(not s.done.is_set() for s in list(self.statements.values()))

    def to_json(self, created_response: bool = False) -> dict[str, Any]:
        request = self.request
        doc = {
            "Id": self.id,
            "CreatedOn": self.created,
            "Status": "PROVISIONING" if created_response else self.status,
            "Role": request.get("Role", ""),
            "Command": request.get("Command", {}),
            "DefaultArguments": request.get("DefaultArguments", {}),
            "GlueVersion": request.get("GlueVersion", "5.0"),
            "NumberOfWorkers": request.get("NumberOfWorkers", 1),
            "WorkerType": request.get("WorkerType", "G.1X"),
            "IdleTimeout": request.get("IdleTimeout", 60),
            "Progress": 100.0,
        }
        if request.get("SecurityConfiguration"):
            doc["SecurityConfiguration"] = request["SecurityConfiguration"]
        return doc

    def run(self, code: str) -> Statement:
        with self.lock:
            statement = Statement(id=len(self.statements) + 1, code=code)
            self.statements[statement.id] = statement
        self.pending.put(statement)
        return statement

    def cancel(self, statement: Statement) -> None:
        if statement.state == "WAITING":
            statement.state = "CANCELLED"
            statement.done.set()
        elif statement.state == "RUNNING":
            statement.state = "CANCELLING"
            self.spark.sparkContext.cancelJobGroup(self._job_group(statement))

    def stop(self) -> None:
        self.status = "STOPPING"
        self.pending.put(None)
        self.worker.join(timeout=5)
        self.status = "STOPPED"

    def _job_group(self, statement: Statement) -> str:
        return f"glue-{self.id}-{statement.id}"

    def _work(self) -> None:
        capture = thread_stdout()
        while True:
            statement = self.pending.get()
            if statement is None:
                return
            if statement.done.is_set():  # cancelled while waiting
                continue
            statement.state, statement.started = "RUNNING", time.time()
            self.spark.sparkContext.setJobGroup(self._job_group(statement), statement.code[:200], True)
            buffer = io.StringIO()
            capture.capture(buffer)
            try:
                execute(self.lake.to_local(statement.code), self.namespace)
                statement.output = {
                    "Data": {"TextPlain": self.lake.to_s3(buffer.getvalue())},
                    "ExecutionCount": statement.id,
                    "Status": "ok",
                }
            except BaseException as exc:  # the statement's error is its output, as in Glue
                statement.output = {
                    "Data": {"TextPlain": self.lake.to_s3(buffer.getvalue())},
                    "ExecutionCount": statement.id,
                    "Status": "error",
                    "ErrorName": type(exc).__name__,
                    "ErrorValue": self.lake.to_s3(str(exc)),
                    "Traceback": [self.lake.to_s3(line) for line in traceback.format_exception(exc)],
                }
            finally:
                capture.capture(None)
            statement.completed = time.time()
            statement.state = "CANCELLED" if statement.state == "CANCELLING" else "AVAILABLE"
            statement.done.set()


def execute(code: str, namespace: dict[str, Any]) -> None:
    """Run `code` in `namespace`; the value of a trailing expression is printed (a notebook cell)."""
    tree = ast.parse(code, mode="exec")
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = tree.body[:-1] if last is not None else tree.body
    exec(compile(ast.Module(body=body, type_ignores=[]), "<statement>", "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), "<statement>", "eval"), namespace)
        if value is not None:
            print(repr(value))


def spark_confs(arguments: dict[str, str]) -> list[tuple[str, str]]:
    """The `--conf k=v --conf k2=v2` of a session's default arguments (dbt-glue's profile `conf`)."""
    raw = arguments.get("--conf", "")
    pairs = []
    for item in raw.split("--conf"):
        key, sep, value = item.strip().partition("=")
        if sep and key:
            pairs.append((key.strip(), value.strip()))
    return pairs
