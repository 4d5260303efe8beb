"""The lake history contract (`LakeHistory`) for both adapters: the S3 adapter on a versioned bucket (moto
server) brings deleted files back; the local adapter, a folder without versions, refuses every call with a
UsageError that says what to do instead. Neither ever claims a file is restorable when it is not."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from lakeml.core.errors import UsageError
from lakeml.core.lake import DeletedObject, LakeHistory, LakeStorage
from lakeml.core.lake.local import LocalLake, LocalLakeHistory
from lakeml.core.lake.s3 import S3Lake, S3LakeHistory
from tests.contract.aws_emulator import REGION, client, create_bucket

PATH = "bronze/_manifests/orders/run-1.json"


@pytest.fixture
def versioned(aws_endpoint: str) -> tuple[LakeStorage, LakeHistory]:
    """The AWS adapters on a versioned bucket, as infra/modules/lake makes it."""
    endpoint = aws_endpoint
    bucket = f"lakeml-lake-{uuid.uuid4().hex[:10]}"
    create_bucket(endpoint, bucket)
    client("s3", endpoint).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return S3Lake(bucket, REGION, endpoint), S3LakeHistory(bucket, REGION, endpoint)


def put(lake: LakeStorage, data: bytes) -> None:
    lake.fs.create_dir(lake.path("bronze/_manifests/orders"), recursive=True)
    with lake.fs.open_output_stream(lake.path(PATH)) as out:
        out.write(data)


def read(lake: LakeStorage) -> bytes:
    with lake.fs.open_input_stream(lake.path(PATH)) as stream:
        return bytes(stream.read())


def test_a_deleted_file_comes_back_as_its_newest_version(versioned) -> None:
    storage, history = versioned
    put(storage, b"old")
    put(storage, b"new")
    storage.fs.delete_file(storage.path(PATH))

    deleted = history.deleted(PATH)
    assert isinstance(deleted, DeletedObject) and deleted.path == PATH
    assert history.read(deleted) == b"new"
    history.restore(deleted)
    assert read(storage) == b"new"
    assert history.deleted(PATH) is None  # it exists again


def test_a_live_file_or_one_never_written_is_not_deleted(versioned) -> None:
    storage, history = versioned
    put(storage, b"live")
    assert history.deleted(PATH) is None
    assert history.deleted("bronze/_manifests/orders/never.json") is None
    assert history.deleted("bronze/_manifests/orders/run-1.js") is None  # a prefix of a key is not the key


def test_the_deleted_files_under_a_prefix_are_listed_with_their_newest_versions(versioned) -> None:
    storage, history = versioned
    folder = "bronze/_manifests/orders"
    storage.fs.create_dir(storage.path(folder), recursive=True)
    for name, body in (("a.json", b"a1"), ("b.json", b"b1"), ("c.json", b"c1"), ("c.json", b"c2")):
        with storage.fs.open_output_stream(storage.path(folder, name)) as out:
            out.write(body)
    for name in ("a.json", "c.json"):
        storage.fs.delete_file(storage.path(folder, name))

    found = history.deleted_under(folder + "/")
    assert [obj.path for obj in found] == [f"{folder}/a.json", f"{folder}/c.json"]  # b is live
    assert [history.read(obj) for obj in found] == [b"a1", b"c2"]


def test_the_local_lake_refuses_and_says_why(tmp_path: Path) -> None:
    storage, history = LocalLake.create(tmp_path / "lake"), LocalLakeHistory(tmp_path / "lake")
    put(storage, b"x")
    for call in (
        lambda: history.deleted(PATH),
        lambda: history.deleted_under("bronze/"),
        lambda: history.read(DeletedObject(PATH, "v")),
        lambda: history.restore(DeletedObject(PATH, "v")),
    ):
        with pytest.raises(UsageError, match=r"keeps no earlier versions.*--full-refresh.*LAKEML_ENV=aws"):
            call()
