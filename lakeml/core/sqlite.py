"""The SQLite helper every local adapter uses: one connection policy and one transaction shape.

Local adapters (watermarks, registry, feature store's online store, notifications) keep their state in
`<home>/state.db` and are used by several processes at once (a CLI, a runner job, a test). WAL would
need a shared-memory file next to the database; the default rollback journal with a busy timeout is
enough at this write rate. A compare-and-set must read and write under one write lock: `transaction()`
opens it with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_S = 30


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection (explicit transactions only), rows addressable by column name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    db.row_factory = sqlite3.Row
    return db


@contextmanager
def transaction(path: Path, *, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection inside one transaction: committed when the block ends, rolled back if it raises.
    `immediate` takes the write lock at BEGIN, so a read-then-write cannot be raced."""
    db = connect(path)
    try:
        db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.close()


@contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection for reads outside a transaction, closed after the block."""
    db = connect(path)
    try:
        yield db
    finally:
        db.close()
