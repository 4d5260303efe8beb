"""Retries for transient failures only: a dropped connection, a throttled or unavailable storage call.

Persistent failures (bad SQL, access denied, a missing bucket, a failed contract) raise at once, so the
Lambda's on-failure destination receives the event instead of the run spinning. Only idempotent steps are
wrapped: a query before it streams, one part upload, the manifest upload, a watermark read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

F = TypeVar("F", bound=Callable[..., object])

# Fragments of pyarrow/AWS SDK error messages that mean "try again" (throttling, 5xx, network).
_TRANSIENT_STORAGE = (
    "SLOW_DOWN",
    "SlowDown",
    "Throttl",
    "SERVICE_UNAVAILABLE",
    "ServiceUnavailable",
    "INTERNAL_FAILURE",
    "InternalError",
    "REQUEST_TIMEOUT",
    "RequestTimeout",
    "NETWORK_CONNECTION",
    "Connection reset",
    "Connection refused",
    "Timeout",
    "timed out",
)


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry can fix; everything else is a real failure."""
    from snowflake.connector import errors as sf

    if isinstance(exc, sf.ProgrammingError):  # bad SQL, missing object, permissions: persistent
        return False
    if isinstance(exc, sf.OperationalError | sf.InterfaceError):
        return True
    if isinstance(exc, sf.DatabaseError):
        return getattr(exc, "errno", None) in {604, 605}  # query cancelled/timed out by the service
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OSError):
        text = str(exc)
        return any(fragment in text for fragment in _TRANSIENT_STORAGE)
    return False


def transient_retry(fn: F) -> F:
    """Up to 5 attempts, exponential backoff with full jitter (0.2 s .. 10 s), transient errors only."""
    wrapped = retry(
        retry=retry_if_exception(is_transient),
        wait=wait_random_exponential(multiplier=0.2, max=10),
        stop=stop_after_attempt(5),
        reraise=True,
    )(fn)
    return wrapped  # type: ignore[return-value]
