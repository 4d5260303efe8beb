"""The twin's S3 <-> lake folder mapping and its `awsglue` shim, without Spark."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeml.twins.glue.paths import LakeMap
from lakeml.twins.glue.server import SHIM


def test_the_lake_bucket_is_the_lake_folder_both_ways(tmp_path: Path) -> None:
    lake = LakeMap.create(tmp_path / "lake", ["lakeml-lake", "acme-lake"])
    folder = (tmp_path / "lake").resolve()
    code = "create table t location 's3://acme-lake/silver/t' as select 's3://lakeml-lake' as root"
    assert lake.to_local(code) == (
        f"create table t location '{folder.as_uri()}/silver/t' as select '{folder.as_uri()}' as root"
    )
    assert lake.to_local("s3://acme-lake-archive/x and s3a://acme-lake/y") == (
        f"s3://acme-lake-archive/x and {folder.as_uri()}/y"  # another bucket stays in S3
    )
    # Spark prints file:/…, file:///… and both come back as the bucket; other folders stay local
    assert lake.to_s3(f"file:{folder}/gold/x file://{folder}/gold file:/tmp/warehouse", "acme-lake") == (
        "s3://acme-lake/gold/x s3://acme-lake/gold file:/tmp/warehouse"
    )
    assert lake.to_s3(f"file:{folder}-other/x") == f"file:{folder}-other/x"


def test_the_awsglue_shim_resolves_job_arguments_as_glue_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SHIM))
    from awsglue.utils import GlueArgumentError, getResolvedOptions

    argv = ["script.py", "--SESSION_ID", "dbt-glue", "--conf=a=b", "--flag"]
    assert getResolvedOptions(argv, ["SESSION_ID", "conf"]) == {"SESSION_ID": "dbt-glue", "conf": "a=b"}
    assert getResolvedOptions(argv, []) == {}
    with pytest.raises(GlueArgumentError, match="--JOB_NAME"):
        getResolvedOptions(argv, ["JOB_NAME"])
