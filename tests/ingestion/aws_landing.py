"""An AWS landing for ingestion tests on a moto server: a fresh versioned lake bucket (as
infra/modules/lake makes it) and watermark table, and the LAKEML_* settings that point `lakeml` at them
with LAKEML_ENV=aws and at this home's local Snowflake twin as the source. Used by the AWS crash sweep
and the disaster-recovery drills (tests/dr)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tests.contract.aws_emulator import REGION, client, create_bucket, create_watermark_table


@dataclass(frozen=True)
class AwsLanding:
    endpoint: str
    bucket: str
    watermark_table: str
    env: dict[str, str]  # the settings of `lakeml` on this landing

    def keys(self, prefix: str) -> list[str]:
        pages = (
            client("s3", self.endpoint)
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def twin_address() -> tuple[str, int]:
    """Host and port of the local Snowflake of the current LAKEML_HOME (started if needed)."""
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake.server import ensure_running

    info = ensure_running(load_settings())
    return info.host, info.port


def aws_landing(endpoint: str) -> AwsLanding:
    suffix = uuid.uuid4().hex[:8]
    bucket, table = f"lakeml-lake-{suffix}", f"lakeml-watermarks-{suffix}"
    create_bucket(endpoint, bucket)
    client("s3", endpoint).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    create_watermark_table(endpoint, table)
    host, port = twin_address()
    env = {
        "LAKEML_ENV": "aws",
        "LAKEML_AWS__REGION": REGION,
        "LAKEML_AWS__ENDPOINT_URL": endpoint,
        "LAKEML_AWS__LAKE_BUCKET": bucket,
        "LAKEML_AWS__WATERMARK_TABLE": table,
        "LAKEML_SOURCE__HOST": host,
        "LAKEML_SOURCE__PORT": str(port),
        "LAKEML_SOURCE__PROTOCOL": "http",
    }
    return AwsLanding(endpoint, bucket, table, env)
