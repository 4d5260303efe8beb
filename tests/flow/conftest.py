"""Fixtures of the flow tests: the daily flow's services on moto (tests/flow/sfn_emulator.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.flow.sfn_emulator import Services, emulated_services


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    yield from emulated_services()
