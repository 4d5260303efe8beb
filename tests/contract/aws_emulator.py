"""A moto server on 127.0.0.1 for tests of the AWS adapters, and helpers to create the resources they use.

A real HTTP endpoint (not `mock_aws`) because pyarrow's S3 client is C++ and cannot be patched; the
boto3-based adapters then make exactly the calls they make in production, only to another endpoint.
Credentials are fakes set in the environment so nothing can ever reach a real account.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from ingestion.watermarks.dynamo import WATERMARK_KEY

REGION = "eu-west-1"
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@contextlib.contextmanager
def moto_server(*, serialized: bool = False) -> Iterator[str]:
    """Start moto on a free port of 127.0.0.1 with fake credentials in the env; yield its endpoint URL.

    `serialized=True` answers one request at a time. DynamoDB evaluates a ConditionExpression and its
    write atomically; moto checks, then writes, in Python, so two requests served by two threads can
    both pass the check when the machine is loaded. Serving requests one by one restores the guarantee
    the watermark race test relies on (the adapter's job is to use the condition, not to be atomic).
    """
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request otherwise
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAKE_AWS_ENV.items():
            env.setenv(name, value)
        for name in _UNSET:
            env.delenv(name, raising=False)
        if serialized:
            app = DomainDispatcherApplication(create_backend_app)
            wsgi = make_server("127.0.0.1", 0, app, threaded=False, request_handler=MotoRequestHandler)
            thread = threading.Thread(target=wsgi.serve_forever, name="moto-serialized", daemon=True)
            thread.start()
            try:
                yield f"http://127.0.0.1:{wsgi.server_port}"
            finally:
                wsgi.shutdown()
                thread.join(timeout=10)
            return
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def create_watermark_table(endpoint: str, name: str) -> None:
    """The table as infra creates it: hash key `table_name` (S), on-demand."""
    client("dynamodb", endpoint).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": WATERMARK_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": WATERMARK_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def create_bucket(endpoint: str, name: str) -> None:
    client("s3", endpoint).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )


def create_secret(endpoint: str, name: str, value: dict[str, Any]) -> None:
    client("secretsmanager", endpoint).create_secret(Name=name, SecretString=json.dumps(value))
