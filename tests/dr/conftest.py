"""Disaster-recovery drills on the emulator (docs/runbook.md, *Disaster recovery*): a moto server per
module, an AWS landing per test (versioned lake bucket + watermark table, LAKEML_ENV=aws) and the local
Snowflake twin as the source, all driven through the `lakeml` command line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.aws_emulator import moto_server
from tests.ingestion.aws_landing import AwsLanding, aws_landing
from tests.ingestion.conftest import Source
from tests.ingestion.conftest import extraction_view_ddl as extraction_view_ddl  # fixtures, reused
from tests.ingestion.conftest import source as source
from tests.ingestion.conftest import sources as sources


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def landing(aws_endpoint: str, source: Source, sources) -> AwsLanding:
    """A fresh AWS landing for ORDERS and CUSTOMERS (no lag, no contract: the drills are about state)."""
    return aws_landing(aws_endpoint)
