"""The `estate` fixture: infra/envs/dev applied to a moto server, shared by every emulator test.

moto runs in this process (`ThreadedMotoServer` on a free port of 127.0.0.1) so the shims
(tests/infra/emulator/shims.py) and the flow test's substitutions (tests/flow/sfn_emulator.py) patch the
server the estate lives on. Package scope, not session: tests elsewhere start `mock_aws()`, which resets
moto's in-process backends, so the estate must be destroyed (and its destroy checked) right after the
last emulator test, before the worker runs anything else. All its tests share xdist group "emulator".
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lakeml.core import aws
from tests.contract.aws_emulator import moto_server
from tests.infra import terraform_cli
from tests.infra.emulator import shims
from tests.infra.emulator.estate import Estate, apply_estate, destroy_estate, slowest

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@pytest.fixture(scope="package")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    """infra/envs/dev applied to moto; destroyed afterwards, and the teardown raises when the destroy
    fails or leaves anything behind. Fake AWS credentials are in the environment meanwhile."""
    terraform_cli.terraform_or_skip()
    with moto_server() as endpoint, pytest.MonkeyPatch.context() as patch:
        shims.install(patch)  # first: the reset re-initialises backends through patched constructors
        # Earlier tests of this worker may have left resources in moto's in-process backends.
        requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
        requests.post(f"{endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=10).raise_for_status()
        # moto's Step Functions engine calls the other services at localhost:$MOTO_PORT.
        patch.setenv("MOTO_PORT", endpoint.rsplit(":", 1)[-1])
        aws.reset()  # the shared boto3 session takes the fake credentials
        built = apply_estate(tmp_path_factory.mktemp("estate"), endpoint)
        try:
            yield built
        finally:
            try:
                destroy_estate(built)
            finally:
                aws.reset()
                # shown by `make infra-check` (--capture=tee-sys); the time goes to the provider's waits
                waits = {step: slowest(text) for step, text in built.logs.items() if step != "init"}
                print(f"\nestate on moto, seconds: {built.timings}; slowest: {waits}")
