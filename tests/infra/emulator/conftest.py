"""The `estate` fixture: infra/envs/dev applied to a moto server, shared by every emulator test.

moto runs in this process (`ThreadedMotoServer` on a free port of 127.0.0.1) so the shims
(tests/infra/emulator/shims.py) and the flow test's substitutions (tests/flow/sfn_emulator.py) patch the
server the estate lives on. Package scope, not session: tests elsewhere start `mock_aws()`, which resets
moto's in-process backends, so the estate must be destroyed (and its destroy checked) right after the
last emulator test, before the worker runs anything else. All its tests share xdist group "emulator".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests

from lakeml.core import aws
from tests.contract.aws_emulator import moto_server
from tests.infra import terraform_cli
from tests.infra.emulator import shims
from tests.infra.emulator.estate import Estate, apply_estate, destroy_estate

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

log = logging.getLogger(__name__)


@pytest.fixture(scope="package")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    """infra/envs/dev applied to moto; destroyed afterwards, and the teardown raises when the destroy
    fails or leaves anything behind. Fake AWS credentials are in the environment meanwhile."""
    terraform_cli.terraform_or_skip()
    with moto_server() as endpoint, pytest.MonkeyPatch.context() as patch:
        # Earlier tests of this worker may have left resources in moto's in-process backends.
        requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
        requests.post(f"{endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=10).raise_for_status()
        # moto's Step Functions engine calls the other services at localhost:$MOTO_PORT.
        patch.setenv("MOTO_PORT", endpoint.rsplit(":", 1)[-1])
        shims.install(patch)
        aws.reset()  # the shared boto3 session takes the fake credentials
        built = apply_estate(tmp_path_factory.mktemp("estate"), endpoint)
        try:
            yield built
        finally:
            destroy_estate(built)
            log.info("estate timings (s): %s", built.timings)
            aws.reset()
