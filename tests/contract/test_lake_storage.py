"""The lake storage contract, run against both adapters: a local folder and an S3 bucket (moto server).

One `pyarrow.fs` code path writes either, so the same cases must hold: Parquet and byte round trips,
recursive listing, hive-partitioned datasets, deletes, URIs, and `resolve` mapping URIs back to paths.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from lakeml.core.lake import BRONZE, LakeStorage
from lakeml.core.lake.local import LocalLake
from lakeml.core.lake.s3 import S3Lake
from tests.contract.aws_emulator import REGION, client, create_bucket


@pytest.fixture(params=["folder", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> LakeStorage:
    if request.param == "folder":
        return LocalLake.create(tmp_path / "lake", ["acme-lake"])
    endpoint = request.getfixturevalue("aws_endpoint")
    bucket = f"lakeml-lake-{uuid.uuid4().hex[:10]}"
    create_bucket(endpoint, bucket)
    return S3Lake(bucket, REGION, endpoint)


def _write(lake: LakeStorage, table: pa.Table, path: str) -> None:
    """As every writer of the lake does: make the parent folder (a no-op on S3), then write."""
    lake.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    pq.write_table(table, path, filesystem=lake.fs)


def _files(lake: LakeStorage, *parts: str) -> list[str]:
    infos = lake.fs.get_file_info(pafs.FileSelector(lake.path(*parts), recursive=True, allow_not_found=True))
    return sorted(i.path for i in infos if i.type == pafs.FileType.File)


def test_parquet_written_through_the_lake_reads_back_equal(lake: LakeStorage) -> None:
    table = pa.table({"ORDER_ID": [1, 2, 3], "NET_AMOUNT": [10.5, 20.0, 3.25]})
    path = lake.path(BRONZE, "orders", "run=abc", "part-00000.parquet")
    _write(lake, table, path)

    assert pq.read_table(path, filesystem=lake.fs).equals(table)
    assert _files(lake, BRONZE) == [path]


def test_stream_write_and_read_round_trip_bytes(lake: LakeStorage) -> None:
    body = b'{"run_id": "abc", "rows": 3}'
    lake.fs.create_dir(lake.path(BRONZE, "_manifests", "orders"), recursive=True)
    with lake.fs.open_output_stream(lake.path(BRONZE, "_manifests", "orders", "abc.json")) as out:
        out.write(body)
    with lake.fs.open_input_stream(lake.path(BRONZE, "_manifests", "orders", "abc.json")) as handle:
        assert handle.read() == body


def test_listing_is_recursive_and_a_missing_file_is_not_found(lake: LakeStorage) -> None:
    paths = [
        lake.path(BRONZE, "orders", f"ingest_date=2026-11-2{d}", f"part-{i}.parquet")
        for d in (6, 7)
        for i in (0, 1)
    ]
    for path in paths:
        _write(lake, pa.table({"x": [1]}), path)

    assert _files(lake, BRONZE, "orders") == sorted(paths)
    assert lake.fs.get_file_info(lake.path(BRONZE, "customers", "x.parquet")).type == pafs.FileType.NotFound


def test_a_dataset_over_hive_partitions_reads_every_row(lake: LakeStorage) -> None:
    for day, ids in (("2026-11-26", [1, 2]), ("2026-11-27", [3])):
        path = lake.path(BRONZE, "orders", f"ingest_date={day}", "part-0.parquet")
        _write(lake, pa.table({"ORDER_ID": ids}), path)

    dataset = ds.dataset(lake.path(BRONZE, "orders"), filesystem=lake.fs, partitioning="hive")
    rows = dataset.to_table().sort_by("ORDER_ID").to_pylist()
    assert [(r["ORDER_ID"], str(r["ingest_date"])) for r in rows] == [
        (1, "2026-11-26"),
        (2, "2026-11-26"),
        (3, "2026-11-27"),
    ]


def test_a_deleted_file_is_gone_for_readers(lake: LakeStorage) -> None:
    path = lake.path(BRONZE, "orders", "run=gone", "part-0.parquet")
    _write(lake, pa.table({"x": [1]}), path)
    lake.fs.delete_file(path)

    assert lake.fs.get_file_info(path).type == pafs.FileType.NotFound
    assert _files(lake, BRONZE, "orders") == []


def test_uris_name_the_same_objects_as_paths(lake: LakeStorage) -> None:
    uri = lake.uri_of(BRONZE, "orders", "part-0.parquet")
    assert uri.startswith(lake.uri + "/")
    assert lake.resolve(uri) == lake.path(BRONZE, "orders", "part-0.parquet")
    _write(lake, pa.table({"x": [7]}), lake.resolve(uri))
    assert pq.read_table(lake.path(BRONZE, "orders", "part-0.parquet"), filesystem=lake.fs).column(
        "x"
    ).to_pylist() == [7]


def test_a_uri_outside_the_lake_is_refused_naming_it(lake: LakeStorage) -> None:
    with pytest.raises(ValueError, match="s3://someone-elses-bucket/key"):
        lake.resolve("s3://someone-elses-bucket/key")


def test_locally_the_configured_and_the_placeholder_buckets_map_to_the_folder(tmp_path: Path) -> None:
    """The pipeline definition names s3://<lake bucket>/…; the local runner finds those under the folder."""
    lake = LocalLake.create(tmp_path / "lake", ["acme-lake"])
    assert lake.resolve("s3://acme-lake/gold/x.csv") == str(tmp_path / "lake" / "gold" / "x.csv")
    assert lake.resolve("s3://lakeml-lake/gold/x.csv") == str(tmp_path / "lake" / "gold" / "x.csv")


def test_s3_objects_are_where_the_paths_say(tmp_path: Path, aws_endpoint: str) -> None:
    bucket = f"lakeml-lake-{uuid.uuid4().hex[:10]}"
    create_bucket(aws_endpoint, bucket)
    lake = S3Lake(bucket, REGION, aws_endpoint)
    assert isinstance(lake.fs, pafs.S3FileSystem) and lake.root == bucket
    pq.write_table(pa.table({"x": [1]}), lake.path(BRONZE, "orders", "part-0.parquet"), filesystem=lake.fs)

    objects = client("s3", aws_endpoint).list_objects_v2(Bucket=bucket, Prefix="bronze/")
    assert [o["Key"] for o in objects["Contents"]] == ["bronze/orders/part-0.parquet"]


def test_s3_a_missing_bucket_is_an_error_naming_it(aws_endpoint: str) -> None:
    lake = S3Lake("lakeml-no-such-bucket", REGION, aws_endpoint)
    with pytest.raises(OSError, match="lakeml-no-such-bucket"):
        pq.write_table(pa.table({"x": [1]}), lake.path(BRONZE, "t", "p.parquet"), filesystem=lake.fs)
