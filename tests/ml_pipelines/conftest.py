"""Session-wide step chains on synthetic gold (expensive: keep their users in xdist group "ml_steps")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ml_pipelines.stepchain import chain


@pytest.fixture(scope="session")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """prepare -> train -> evaluate on data with a planted signal, no champion."""
    return chain(tmp_path_factory.mktemp("good"), shuffle_labels=False)


@pytest.fixture(scope="session")
def shuffled(tmp_path_factory: pytest.TempPathFactory, good: dict[str, Any]) -> dict[str, Any]:
    """The same on shuffled labels, with the good model as champion."""
    return chain(tmp_path_factory.mktemp("shuffled"), shuffle_labels=True, champion=good["archive"])
