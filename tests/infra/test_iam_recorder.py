"""The least-privilege recorder (tests/infra/emulator/iam/recorder.py) on a moto server: pyarrow's S3 calls
through the recording proxy and lakeml's boto3 calls through `lakeml.core.aws.observe`, each recorded once,
with the parameters the IAM mapping needs; and the state machine's calls read from an ASL definition."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from lakeml.core import aws
from tests.contract.aws_emulator import REGION, create_bucket, moto_server
from tests.infra.emulator.iam.asl import SYNC_RULE, task_calls
from tests.infra.emulator.iam.recorder import RecordingProxy, as_role, recording

ROLE = "arn:aws:iam::123456789012:role/lakeml-dev-ingestion"


def test_pyarrow_and_botocore_calls_are_recorded_once_with_their_keys() -> None:
    with moto_server() as endpoint:
        create_bucket(endpoint, "lake")
        with RecordingProxy(endpoint, REGION) as proxy, recording(), as_role("r", ROLE, runtime="t") as run:
            fs = pafs.S3FileSystem(region=REGION, endpoint_override=proxy.url, scheme="http")
            fs.create_dir("lake/bronze/t")
            pq.write_table(pa.table({"a": [1, 2]}), "lake/bronze/t/.tmp-2025%3A01.parquet", filesystem=fs)
            fs.move("lake/bronze/t/.tmp-2025%3A01.parquet", "lake/bronze/t/2025%3A01.parquet")
            assert pq.read_table("lake/bronze/t/2025%3A01.parquet", filesystem=fs).num_rows == 2
            fs.delete_dir_contents("lake/bronze")
            aws.client("s3", REGION, proxy.url).list_objects_v2(Bucket="lake", Prefix="bronze/")
            aws.reset()

    ops = [(c.via, c.operation) for c in run.calls]
    assert ("s3-http", "CreateMultipartUpload") in ops and ("s3-http", "CopyObject") in ops
    assert ops.count(("botocore", "ListObjectsV2")) == 1 and ops[-1] == ("botocore", "ListObjectsV2")
    assert all(c.params.get("Bucket") == "lake" for c in run.calls)  # pyarrow's probe bucket is not recorded
    (copy,) = [c for c in run.calls if c.operation == "CopyObject"]
    # the key as stored ('%' kept): the proxy forwards the request target unchanged
    assert copy.params == {
        "Bucket": "lake",
        "Key": "bronze/t/2025%3A01.parquet",
        "CopySource": "lake/bronze/t/.tmp-2025%3A01.parquet",
    }
    (deleted,) = [c for c in run.calls if c.operation == "DeleteObjects"]
    assert {o["Key"] for o in deleted.params["Delete"]["Objects"]} >= {"bronze/t/2025%3A01.parquet"}
    listing = [c for c in run.calls if c.operation == "ListObjectsV2" and c.via == "s3-http"]
    assert listing and all("Prefix" in c.params for c in listing)


def test_state_machine_calls_come_from_every_task_state() -> None:
    definition = {
        "StartAt": "ingest",
        "States": {
            "ingest": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "item",
                    "States": {
                        "item": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {
                                "FunctionName": "arn:aws:lambda:eu-west-1:1:function:f",
                                "Payload.$": "$",
                            },
                            "End": True,
                        }
                    },
                },
                "Next": "work",
            },
            "work": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "dbt",
                        "States": {
                            "dbt": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::ecs:runTask.sync",
                                "Parameters": {
                                    "Cluster": "arn:aws:ecs:eu-west-1:1:cluster/c",
                                    "TaskDefinition": "arn:aws:ecs:eu-west-1:1:task-definition/t:1",
                                },
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "start",
                        "States": {
                            "start": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution",
                                "Parameters": {"PipelineName": "Train"},
                                "Next": "describe",
                            },
                            "describe": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::aws-sdk:sagemaker:describePipelineExecution",
                                "Parameters": {"PipelineExecutionArn.$": "$.arn"},
                                "End": True,
                            },
                        },
                    },
                ],
                "End": True,
            },
        },
    }
    calls = task_calls(definition, REGION, "1", ["arn:aws:iam::1:role/task"])
    named = [(c.service, c.operation) for c in calls]
    assert named[0] == ("lambda", "InvokeFunction")
    assert {("ecs", "RunTask"), ("ecs", "DescribeTasks"), ("ecs", "StopTask"), ("iam", "PassRole")} <= set(
        named
    )
    assert {c.params["Name"] for c in calls if c.service == "events"} == {SYNC_RULE}
    (describe,) = [c for c in calls if c.operation == "DescribePipelineExecution"]
    assert describe.params["PipelineExecutionArn"].startswith(
        f"arn:aws:sagemaker:{REGION}:1:pipeline/train/execution/"
    )
