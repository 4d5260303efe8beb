"""One source connection per process, reused across warm Lambda invocations and re-opened when stale.

Opening a Snowflake session costs a login round trip (and, on AWS, a Secrets Manager read), so a warm
Lambda keeps its connection between invocations. A kept connection can go stale without noticing: the
session token expires after hours of idleness, or the server (locally: the fakesnow process) restarts.
So a connection that is closed is replaced, and one that sat idle longer than `IDLE_CHECK_AFTER_S` must
first answer a cheap `SELECT 1`; if it cannot, it is dropped and a new one opened. Credentials are never
logged: the log lines here name only account, user, host and the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from ingestion.secrets import secrets_provider
from lakeml.core.settings import Settings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

log = logging.getLogger(__name__)

# A connection used within this many seconds is trusted as is; an older one is health-checked first.
IDLE_CHECK_AFTER_S = 60.0
HEALTH_CHECK_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0
CONNECT_ATTEMPTS = 3


@dataclass
class _Kept:
    connection: SnowflakeConnection
    identity: str
    last_used: float


_kept: _Kept | None = None
_lock = threading.Lock()


def source_connection(settings: Settings) -> SnowflakeConnection:
    """The process's connection to the source for `settings`, opened (or re-opened) when needed."""
    global _kept
    identity = _identity(settings)
    with _lock:
        if _kept is not None:
            reason = _stale_reason(_kept, identity)
            if reason is None:
                _kept.last_used = time.monotonic()
                return _kept.connection
            log.info("re-opening the source connection: %s", reason)
            _close_quietly(_kept.connection)
            _kept = None
        connection = _open(settings)
        _kept = _Kept(connection, identity, time.monotonic())
        return connection


def close_source_connection() -> None:
    """Close the kept connection (end of a CLI run, tests); the next `source_connection` opens a new one."""
    global _kept
    with _lock:
        if _kept is not None:
            _close_quietly(_kept.connection)
            _kept = None


def _identity(settings: Settings) -> str:
    """What the kept connection was opened for; a different home or source means a different connection.
    `model_dump_json` masks SecretStr, so this string is safe to keep around."""
    return f"{settings.env}|{settings.home}|{settings.source.model_dump_json()}"


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
def _open(settings: Settings) -> SnowflakeConnection:
    import snowflake.connector

    params: dict[str, Any] = secrets_provider(settings).snowflake_credentials()
    log.info(
        "opening a source connection: account=%s user=%s host=%s",
        params.get("account"),
        params.get("user"),
        params.get("host", "<snowflake>"),
    )
    return snowflake.connector.connect(**params)


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
