"""Every quirk needed to build a SageMaker pipeline definition offline, in one place.

Building the definition is pure data work, but the SageMaker Python SDK 3.x reaches for AWS in a few
spots unless told not to:

- `import sagemaker.mlops` / `sagemaker.serve` raise NoRegionError at import when no region is set;
- `ModelTrainer` validates its role with IAM unless `SAGEMAKER_VALIDATE_ROLE=false`;
- `ModelBuilder.register()` looks the session's default bucket up with STS/S3 unless it is preset;
- boto3 looks for credentials and would sign requests with whatever it finds.

`prepare_offline_env()` must run before the first SageMaker import, `offline()` wraps a whole build (the
SDK makes default boto3 sessions of its own), and `pipeline_session()` gives a
`PipelineSession` whose boto3 session has fake credentials and whose default bucket is preset, so a
build with networking to AWS made impossible still succeeds (see tests/ml_pipelines/test_pipeline.py).
Upserting and starting the pipeline on AWS go through the pipeline runner port's SageMaker adapter
(`ml_pipelines.runner.sagemaker`, boto3 from `lakeml.core.aws` with real credentials), never this
session. The environment is touched only through `lakeml.core.environ`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from lakeml.core import environ

if TYPE_CHECKING:
    import sagemaker.mlops.workflow.pipeline
    import sagemaker.serve.model_builder  # noqa: F401
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    for name in [*logging.root.manager.loggerDict, "sagemaker.core.utils.utils", "botocore.credentials"]:
        if name.startswith("sagemaker"):
            logging.getLogger(name).setLevel(logging.ERROR)
DEFAULT_REGION = "eu-west-1"
# Never valid on AWS: a definition build must not be able to sign a real request.
SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
_FAKE_KEY_ID = "AKIALAKEMLOFFLINEBUILD"
_FAKE_SECRET = "lakeml-offline-definition-build-not-a-secret"


def prepare_offline_env(region: str | None = None) -> str:
    """Set the environment the SDK needs at import time; return the region in effect.

    Called before any `sagemaker.*` import. It only fills values that are unset, so a caller (or a test)
    that chose a region keeps it."""
    chosen = (
        region or environ.platform("AWS_DEFAULT_REGION") or environ.platform("AWS_REGION") or DEFAULT_REGION
    )
    environ.export_default("AWS_DEFAULT_REGION", chosen)
    environ.export({"SAGEMAKER_VALIDATE_ROLE": "false"})
    return chosen


@contextmanager
def offline() -> Iterator[None]:
    """Run a definition build with credentials that cannot reach AWS.

    The SDK creates default boto3 sessions behind our back (`sagemaker.ai_registry` at import time, every
    `ProcessingStep` through a `LocalSagemakerClient`). With no credentials in the environment botocore's
    chain would then ask the EC2 metadata endpoint (169.254.169.254) — a network call, and a 1 s+ timeout
    off EC2. Inside this block the environment holds fake static keys and IMDS is disabled; afterwards the
    caller's own environment is restored, so a later real call (upsert) keeps its credential chain."""
    fake_credentials = {
        "AWS_ACCESS_KEY_ID": _FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": _FAKE_SECRET,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
    }
    # The SDK configures the root logger on import and logs every defaulted field (some at DEBUG via
    # loggers it re-levels mid-build); a build is not news, so its chatter stays off stderr.
    previous_disable = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with environ.scoped(fake_credentials):
            yield
    finally:
        logging.disable(previous_disable)


def pipeline_session(region: str, default_bucket: str) -> PipelineSession:
    """A PipelineSession that cannot reach AWS by accident: fake static credentials and a preset bucket."""
    prepare_offline_env(region)
    import boto3

    # The SDK logs every defaulted field at INFO and warns that a PipelineSession starts no jobs; building
    # a definition is not news, so keep its chatter out of the CLI's stderr.
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
    warnings.filterwarnings("ignore", message="Lambda function won't be updated")
    import sagemaker.mlops.workflow.pipeline
    import sagemaker.serve.model_builder  # noqa: F401
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    for name in [*logging.root.manager.loggerDict, "sagemaker.core.utils.utils", "botocore.credentials"]:
        if name.startswith("sagemaker"):
            logging.getLogger(name).setLevel(logging.ERROR)
    boto_session = boto3.Session(
        aws_access_key_id=_FAKE_KEY_ID,
        aws_secret_access_key=_FAKE_SECRET,
        region_name=region,
    )
    # An explicit SDK config: telemetry off (it would send an HTTP request per SDK call) and no
    # user/admin config files read from this machine, so the JSON does not depend on who builds it.
    session = PipelineSession(
        boto_session=boto_session, default_bucket=default_bucket, sagemaker_config=SDK_CONFIG
    )
    # `default_bucket()` would otherwise call STS (account id) and S3 (create/head bucket).
    session._default_bucket = default_bucket
    return session
