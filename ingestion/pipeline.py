"""Concurrency of a fetch run: three stages, overlapped through bounded queues.

Fetch (the caller's thread) -> validate (a thread) -> write (a thread). Arrow compute, Parquet encoding
and the connector's network reads release the GIL, so the stages run in parallel and the slowest sets
the pace; the queues (depth 2) bound memory to a few chunks whatever the window's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import pyarrow as pa

QUEUE_DEPTH = 2
V = TypeVar("V")

_DONE = object()


def run_pipeline(
    chunks: Iterable[pa.Table],
    validate: Callable[[pa.Table], V],
    write: Callable[[V], None],
) -> None:
    """Feed `chunks` through `validate` then `write`, in three threads. The first error in any stage
    stops the others and is re-raised here; a stopped stream is closed at once (its cursor released)."""
    to_validate: queue.Queue[Any] = queue.Queue(QUEUE_DEPTH)
    to_write: queue.Queue[Any] = queue.Queue(QUEUE_DEPTH)
    failed = threading.Event()
    errors: list[BaseException] = []

    def put(q: queue.Queue[Any], item: Any) -> bool:
        while not failed.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def items(q: queue.Queue[Any]) -> Iterator[Any]:
        while not failed.is_set():
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _DONE:
                return
            yield item

    def stage(source: queue.Queue[Any], fn: Callable[[Any], Any], sink: queue.Queue[Any] | None) -> None:
        try:
            for item in items(source):
                out = fn(item)
                if sink is not None and not put(sink, out):
                    return
            if sink is not None:
                put(sink, _DONE)
        except BaseException as exc:
            errors.append(exc)
            failed.set()

    workers = [
        threading.Thread(
            target=stage, args=(to_validate, validate, to_write), name="ingest-validate", daemon=True
        ),
        threading.Thread(target=stage, args=(to_write, write, None), name="ingest-write", daemon=True),
    ]
    for worker in workers:
        worker.start()
    try:
        for chunk in chunks:
            if not put(to_validate, chunk):
                break
        else:
            put(to_validate, _DONE)
    except BaseException as exc:
        errors.append(exc)
        failed.set()
    finally:
        for worker in workers:
            worker.join()
        close = getattr(chunks, "close", None)
        if close is not None:  # a stopped stream releases its cursor now, not at garbage collection
            close()
    if errors:
        raise errors[0]
