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
from lakeml.settings import Settings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

log = logging.getLogger(__name__)

# A connection used within this many seconds is trusted as is; an older one is health-checked first.
IDLE_CHECK_AFTER_S = 60.0
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
    try:
        with kept.connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()
    except Exception as exc:  # any failure means "do not trust it"; the new connection will tell why
        return f"it failed a health check after {idle:.0f} s idle ({type(exc).__name__})"
    return None


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
    try:
        connection.close()
    except Exception as exc:  # closing a dead session fails; there is nothing left to release
        log.debug("closing a stale source connection failed: %s", type(exc).__name__)
