"""`lake(settings)` on AWS: the same pyarrow.fs code path writes, lists and reads S3 (a moto server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from lakeml.core.lake import BRONZE
from lakeml.core.settings import Settings
from lakeml.wiring import adapters
from tests.contract.aws_emulator import REGION, client, create_bucket, moto_server

pytestmark = pytest.mark.xdist_group("moto-s3")


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(aws_endpoint: str) -> str:
    name = f"lakeml-lake-{uuid.uuid4().hex[:10]}"
    create_bucket(aws_endpoint, name)
    return name


@pytest.fixture
def settings(home: Path, aws_endpoint: str, bucket: str) -> Settings:
    return Settings(env="aws", aws={"region": REGION, "lake_bucket": bucket, "endpoint_url": aws_endpoint})


def test_aws_lake_is_an_s3_filesystem_rooted_at_the_bucket(settings: Settings, bucket: str) -> None:
    lake_fs = adapters(settings).lake
    assert isinstance(lake_fs.fs, pafs.S3FileSystem)
    assert lake_fs.root == bucket
    assert lake_fs.uri_of(BRONZE, "orders") == f"s3://{bucket}/bronze/orders"


def test_parquet_written_through_the_lake_is_an_object_in_the_bucket(
    settings: Settings, aws_endpoint: str, bucket: str
) -> None:
    lake_fs = adapters(settings).lake
    table = pa.table({"ORDER_ID": [1, 2, 3], "NET_AMOUNT": [10.5, 20.0, 3.25]})
    pq.write_table(
        table, lake_fs.path(BRONZE, "orders", "run=abc", "part-00000.parquet"), filesystem=lake_fs.fs
    )

    objects = client("s3", aws_endpoint).list_objects_v2(Bucket=bucket, Prefix="bronze/")
    assert [o["Key"] for o in objects["Contents"]] == ["bronze/orders/run=abc/part-00000.parquet"]
    read_back = pq.read_table(
        lake_fs.path(BRONZE, "orders", "run=abc", "part-00000.parquet"), filesystem=lake_fs.fs
    )
    assert read_back.equals(table)


def test_stream_write_and_read_round_trip_bytes(settings: Settings) -> None:
    lake_fs = adapters(settings).lake
    manifest = b'{"run_id": "abc", "rows": 3}'
    with lake_fs.fs.open_output_stream(lake_fs.path(BRONZE, "_manifests", "orders", "abc.json")) as out:
        out.write(manifest)
    with lake_fs.fs.open_input_stream(lake_fs.path(BRONZE, "_manifests", "orders", "abc.json")) as handle:
        assert handle.read() == manifest


def test_listing_is_recursive_and_sees_every_file(settings: Settings) -> None:
    lake_fs = adapters(settings).lake
    paths = [
        lake_fs.path(BRONZE, "orders", f"ingest_date=2026-11-2{d}", f"part-{i}.parquet")
        for d in (6, 7)
        for i in (0, 1)
    ]
    for path in paths:
        pq.write_table(pa.table({"x": [1]}), path, filesystem=lake_fs.fs)

    infos = lake_fs.fs.get_file_info(pafs.FileSelector(lake_fs.path(BRONZE, "orders"), recursive=True))
    assert sorted(i.path for i in infos if i.type == pafs.FileType.File) == sorted(paths)
    missing = lake_fs.fs.get_file_info(lake_fs.path(BRONZE, "customers", "x.parquet"))
    assert missing.type == pafs.FileType.NotFound


def test_a_dataset_over_partitions_reads_every_row(settings: Settings) -> None:
    lake_fs = adapters(settings).lake
    for day, ids in (("2026-11-26", [1, 2]), ("2026-11-27", [3])):
        path = lake_fs.path(BRONZE, "orders", f"ingest_date={day}", "part-0.parquet")
        pq.write_table(pa.table({"ORDER_ID": ids}), path, filesystem=lake_fs.fs)

    dataset = ds.dataset(lake_fs.path(BRONZE, "orders"), filesystem=lake_fs.fs, partitioning="hive")
    rows = dataset.to_table().sort_by("ORDER_ID").to_pylist()
    assert [(r["ORDER_ID"], str(r["ingest_date"])) for r in rows] == [
        (1, "2026-11-26"),
        (2, "2026-11-26"),
        (3, "2026-11-27"),
    ]


def test_delete_removes_the_object_and_leaves_only_an_empty_folder_marker(
    settings: Settings, aws_endpoint: str, bucket: str
) -> None:
    """pyarrow keeps the emptied "folder" as a zero-byte `run=gone/` marker object; readers that look
    for parquet parts or manifests never see it as data."""
    lake_fs = adapters(settings).lake
    path = lake_fs.path(BRONZE, "orders", "run=gone", "part-0.parquet")
    pq.write_table(pa.table({"x": [1]}), path, filesystem=lake_fs.fs)
    lake_fs.fs.delete_file(path)
    objects = client("s3", aws_endpoint).list_objects_v2(Bucket=bucket, Prefix="bronze/orders/run=gone/")
    assert [(o["Key"], o["Size"]) for o in objects.get("Contents", [])] == [("bronze/orders/run=gone/", 0)]
    assert lake_fs.fs.get_file_info(path).type == pafs.FileType.NotFound


def test_a_missing_bucket_is_an_error_naming_it(home: Path, aws_endpoint: str) -> None:
    settings = Settings(
        env="aws",
        aws={"region": REGION, "lake_bucket": "lakeml-no-such-bucket", "endpoint_url": aws_endpoint},
    )
    lake_fs = adapters(settings).lake
    with pytest.raises(OSError, match="lakeml-no-such-bucket"):
        pq.write_table(pa.table({"x": [1]}), lake_fs.path(BRONZE, "x.parquet"), filesystem=lake_fs.fs)
