"""The one boto3 client factory: every AWS adapter gets its clients here, with the same retry and timeout
policy and the same emulator endpoint, and no GetSecretValue body ever reaches a log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Standard retry mode: exponential backoff with jitter on throttling and 5xx, a bounded number of times.
# Conditional-check failures are not retried by botocore (they are answers, not faults).
RETRIES = {"mode": "standard", "max_attempts": 5}
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60

_session: boto3.session.Session | None = None
_lock = threading.Lock()
# botocore `before-parameter-build` handlers every client of this module calls (`observe`): the
# least-privilege check (tests/infra/emulator/iam) records each call lakeml makes through them.
_observers: list[Callable[..., None]] = []


class _RedactSecretResponses(logging.Filter):
    """botocore logs every response body at DEBUG, and a GetSecretValue body *is* the secret. Lambda's
    log-level controls can turn the root logger to DEBUG, so the body is replaced before any handler
    sees it; every other DEBUG line is left alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return True
        if "SecretString" in text or "SecretBinary" in text:
            record.msg = "Response body: <redacted by lakeml: it carries a Secrets Manager secret value>"
            record.args = ()
        return True


logging.getLogger("botocore.parsers").addFilter(_RedactSecretResponses())


def client(
    service: str, region: str, endpoint_url: str | None = None, *, read_timeout: float = READ_TIMEOUT_S
) -> Any:
    """A boto3 client for `service` with lakeml's retry/timeout policy (one shared session: creating
    clients from one session is cheap, and the session is not thread-safe, hence the lock)."""
    global _session
    config = Config(retries=RETRIES, connect_timeout=CONNECT_TIMEOUT_S, read_timeout=read_timeout)
    with _lock:
        if _session is None:
            _session = boto3.session.Session()
        made = _session.client(service, region_name=region, endpoint_url=endpoint_url, config=config)
    made.meta.events.register("before-parameter-build", _notify_observers)
    return made


def observe(callback: Callable[..., None]) -> Callable[[], None]:
    """Call `callback(params=, model=, context=, **_)` (botocore's `before-parameter-build` arguments:
    the API parameters, the OperationModel, a context with `client_region`) before every AWS call made
    through a client of this module, including clients made before; returns the function that stops it."""
    _observers.append(callback)
    return lambda: _observers.remove(callback)


def _notify_observers(**kwargs: Any) -> None:
    for callback in list(_observers):
        callback(**kwargs)


def reset() -> None:
    """Forget the shared session (tests that change credentials in the environment)."""
    global _session
    with _lock:
        _session = None


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""
