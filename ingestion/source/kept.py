"""One source connection per process, reused across warm Lambda invocations and re-opened when stale.

Opening a Snowflake session costs a login round trip (and, on AWS, a Secrets Manager read), so a warm
Lambda keeps its connection between invocations: the slot is process-wide, and every adapter instance
built for the same identity (a new `adapters(settings)` per invocation) finds the same connection. A kept
connection can go stale without noticing: the session token expires after hours of idleness, or the
server (locally: the fakesnow process) restarts. So a connection that is closed is replaced, and one that
sat idle longer than `IDLE_CHECK_AFTER_S` must first answer a cheap `SELECT 1`; if it cannot, it is
dropped and a new one opened. Credentials are never logged: the log lines here name only account, user,
host and the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

log = logging.getLogger(__name__)

# A connection used within this many seconds is trusted as is; an older one is health-checked first.
IDLE_CHECK_AFTER_S = 60.0
HEALTH_CHECK_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0
CONNECT_ATTEMPTS = 3

ParamsFn = Callable[[], dict[str, Any]]


@dataclass
class _Kept:
    connection: SnowflakeConnection
    identity: str
    last_used: float


_kept: _Kept | None = None
_lock = threading.Lock()


def kept_connection(identity: str, params: ParamsFn) -> SnowflakeConnection:
    """The process's connection for `identity`, opened with `params()` (or re-opened) when needed.

    `identity` names what the connection was opened for (adapter, home, source settings with secrets
    masked); a different one replaces the kept connection."""
    global _kept
    with _lock:
        if _kept is not None:
            reason = _stale_reason(_kept, identity)
            if reason is None:
                _kept.last_used = time.monotonic()
                return _kept.connection
            log.info("re-opening the source connection: %s", reason)
            _close_quietly(_kept.connection)
            _kept = None
        connection = _open(params)
        _kept = _Kept(connection, identity, time.monotonic())
        return connection


def close_kept(identity: str | None = None) -> None:
    """Close the kept connection (only if it is `identity`'s, when given); the next call opens a new one."""
    global _kept
    with _lock:
        if _kept is not None and (identity is None or _kept.identity == identity):
            _close_quietly(_kept.connection)
            _kept = None


def _stale_reason(kept: _Kept, identity: str) -> str | None:
    if kept.identity != identity:
        return "the settings changed"
    if kept.connection.is_closed():
        return "it was closed"
    idle = time.monotonic() - kept.last_used
    if idle < IDLE_CHECK_AFTER_S:
        return None
    problem = _health_check(kept.connection)
    return f"it failed a health check after {idle:.0f} s idle ({problem})" if problem else None


def _health_check(connection: SnowflakeConnection) -> str | None:
    """Run `SELECT 1` with a deadline; None if it answered, else why not.

    The deadline is a thread join because the connector's own timeouts do not bound this: against a
    server that went away it keeps retrying the request for minutes (measured: > 200 s with
    `execute(timeout=5)`). A probe that misses the deadline is abandoned (daemon thread) with its
    connection, which is never used again.
    """
    outcome: list[BaseException | None] = []

    def probe() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchall()
            outcome.append(None)
        except Exception as exc:  # any failure means "do not trust it"; the new connection will tell why
            outcome.append(exc)

    thread = threading.Thread(target=probe, name="source-health-check", daemon=True)
    thread.start()
    thread.join(HEALTH_CHECK_TIMEOUT_S)
    if not outcome:
        return f"no answer within {HEALTH_CHECK_TIMEOUT_S:.0f} s"
    error = outcome[0]
    return type(error).__name__ if error is not None else None


def _is_transient(exc: BaseException) -> bool:
    """Network-level failures (OperationalError) are worth another try; a wrong password is not."""
    from snowflake.connector.errors import OperationalError

    return isinstance(exc, OperationalError)


@retry(
    retry=retry_if_exception(_is_transient),
    stop=stop_after_attempt(CONNECT_ATTEMPTS),
    wait=wait_random_exponential(multiplier=0.5, max=8),
    before_sleep=before_sleep_log(log, logging.WARNING),
    reraise=True,
)
def _open(params: ParamsFn) -> SnowflakeConnection:
    import snowflake.connector

    kwargs = params()
    log.info(
        "opening a source connection: account=%s user=%s host=%s",
        kwargs.get("account"),
        kwargs.get("user"),
        kwargs.get("host", "<snowflake>"),
    )
    return snowflake.connector.connect(**kwargs)


def _close_quietly(connection: SnowflakeConnection) -> None:
    """Log the session out, waiting at most CLOSE_TIMEOUT_S: against a dead server the logout request
    retries for minutes, and a stale connection must never hold up the run that replaces it."""

    def close() -> None:
        try:
            connection.close(retry=False)
        except Exception as exc:  # closing a dead session fails; there is nothing left to release
            log.debug("closing a stale source connection failed: %s", type(exc).__name__)

    thread = threading.Thread(target=close, name="source-close", daemon=True)
    thread.start()
    thread.join(CLOSE_TIMEOUT_S)
