"""Fixtures of the port contract suites: one moto server per module for the AWS adapters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.aws_emulator import moto_server


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    """URL of a moto server (S3, DynamoDB, Secrets Manager) on 127.0.0.1, shared by the module's tests.
    Serialized: the contract needs DynamoDB's atomic conditional writes (see `moto_server`)."""
    with moto_server(serialized=True) as endpoint:
        yield endpoint
