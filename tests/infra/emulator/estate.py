"""infra/envs/dev applied to moto: the estate the emulator tests assert and run the runtimes against.

`apply_estate` copies infra/ to a temporary folder, adds an `emulator_override.tf` that points the
provider at the moto server (fake credentials, no account lookup, one retry, a local backend) and an
`emulator.auto.tfvars` with the dev env's required values (account 123456789012, dummy image URIs), then
runs `init -plugin-dir=<mirror>` and `apply`. `destroy_estate` destroys and refuses to pass when
anything is left, in the state or on the emulator.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from lakeml.core import aws
from tests.infra import terraform_cli
from tests.infra.terraform_cli import PLUGIN_DIR, REPO, Result

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
ENV = "dev"
# The provider's endpoint keys for every service infra/ uses (AWS_ENDPOINT_URL covers any other).
SERVICES = (
    "accessanalyzer",
    "cloudtrail",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "ecr",
    "ecs",
    "events",
    "glue",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sagemaker",
    "scheduler",
    "secretsmanager",
    "sfn",
    "sns",
    "sqs",
    "sts",
)
# moto answers at once, so Terraform's default of 10 concurrent operations is the bottleneck: most of
# the apply is the provider's own consistency waits (S3 lifecycle, SQS attributes, KMS), run side by side.
PARALLELISM = 32
APPROVER = "lakeml-model-approver"
PIPELINE_SNAPSHOTS = REPO / "tests" / "ml_pipelines" / "snapshots"
IMAGE = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/lakeml-{ENV}-{{kind}}:emulator"


def override(endpoint_url: str) -> str:
    endpoints = "\n".join(f'    {service} = "{endpoint_url}"' for service in SERVICES)
    return f"""# Written by tests/infra/emulator: this copy of infra/envs/{ENV} applies to moto, never to AWS.
terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  # The account lookup stays on: moto answers 123456789012, so allowed_account_ids is checked too.
  skip_requesting_account_id  = false
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 1
  endpoints {{
{endpoints}
  }}
}}
"""


def existing_network(endpoint_url: str) -> dict[str, Any]:
    """The account's private network, which infra/ does not manage (staging and prod are given theirs):
    a VPC with two private subnets and their route table, so the apply covers the network module (VPC
    endpoints, security groups) and the dbt task has subnets to run in, as the flow needs."""
    ec2 = aws.client("ec2", REGION, endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    # Interface endpoints with private DNS need both (AWS refuses them otherwise); ECS tasks' ENIs get
    # their private DNS names from the second.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")[
            "Subnet"
        ]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for subnet in subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return {"vpc_id": vpc, "subnet_ids": subnets, "route_table_ids": [table]}


def tfvars(network: dict[str, Any]) -> str:
    return "\n".join(
        [
            *(f"{name} = {json.dumps(value)}" for name, value in network.items()),
            f'account_id       = "{ACCOUNT_ID}"',
            f'region           = "{REGION}"',
            f'lambda_image_uri = "{IMAGE.format(kind="lambda")}"',
            f'ml_image_uri     = "{IMAGE.format(kind="ml")}"',
            # The second apply of docs/aws.md: the pipelines from their definitions (the test snapshots).
            "pipeline_definition_files = {",
            f'  training = "{PIPELINE_SNAPSHOTS / "training.json"}"',
            f'  scoring  = "{PIPELINE_SNAPSHOTS / "batch.json"}"',
            "}",
            "",
        ]
    )


@dataclass
class Estate:
    """The applied dev env on the emulator.

    `outputs` is `terraform output -json` reduced to values (`outputs["lakeml"]` is the stack's outputs:
    lake_bucket, state_machine_arn, function_arns, glue_databases, lakeml_env...), `state` is
    `terraform show -json`, `workdir` the applied root (the temp copy of infra/envs/dev), `terraform`
    runs `terraform <args>` there; `network` the VPC, subnets, route tables and approver principals given to the env."""

    endpoint_url: str
    region: str
    account_id: str
    outputs: dict[str, Any]
    state: dict[str, Any]
    workdir: Path
    terraform: Callable[..., Result]
    network: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)

    @property
    def stack(self) -> dict[str, Any]:
        """The stack module's outputs (the dev root's single `lakeml` output)."""
        return dict(self.outputs["lakeml"])

    def client(self, service: str) -> Any:
        """A boto3 client on the emulator, built by lakeml's own factory (`lakeml.core.aws.client`)."""
        return aws.client(service, self.region, self.endpoint_url)

    def resources(self, resource_type: str | None = None) -> list[dict[str, Any]]:
        """Managed resources of the applied state (every module), optionally of one type."""
        return [
            r
            for r in walk(self.state["values"]["root_module"])
            if r["mode"] == "managed" and resource_type in (None, r["type"])
        ]

    def resource(self, address_suffix: str) -> dict[str, Any]:
        """The one managed resource whose address ends with `address_suffix`."""
        (found,) = [r for r in self.resources() if r["address"].endswith(address_suffix)]
        return found


def slowest(log: str, count: int = 3) -> list[tuple[str, int]]:
    """The resources that took longest in an apply or destroy log ("... complete after 55s")."""
    found = re.findall(r"^(\S+): (?:Creation|Destruction) complete after (?:(\d+)m)?(\d+)s", log, re.M)
    seconds = [(address, int(minutes or 0) * 60 + int(secs)) for address, minutes, secs in found]
    return sorted(seconds, key=lambda item: -item[1])[:count]


def walk(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from walk(child)


def _timed(timings: dict[str, float], name: str, run: Callable[[], Result]) -> Result:
    started = time.perf_counter()
    result = run()
    timings[name] = round(time.perf_counter() - started, 1)
    return result


def apply_estate(base: Path, endpoint_url: str) -> Estate:
    """Apply infra/envs/dev to the emulator at `endpoint_url`; raise with terraform's output on failure."""
    fake = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # Any service the endpoints block does not name still goes to the emulator, never to AWS.
        "AWS_ENDPOINT_URL": endpoint_url,
    }
    space = terraform_cli.workspace(base, fake)
    workdir = space.root / "envs" / ENV
    (workdir / "emulator_override.tf").write_text(override(endpoint_url))
    network = existing_network(endpoint_url)
    # A person who may approve models (dev creates the approver role only for named principals).
    approver = aws.client("iam", REGION, endpoint_url).create_user(UserName=APPROVER)["User"]["Arn"]
    network["approver_principal_arns"] = [approver]
    (workdir / "emulator.auto.tfvars").write_text(tfvars(network))

    def terraform(*args: str, timeout: int = 300) -> Result:
        return space.run(workdir, *args, "-no-color", timeout=timeout)

    timings: dict[str, float] = {}
    logs: dict[str, str] = {}
    steps: list[tuple[str, tuple[str, ...]]] = [
        ("init", ("init", f"-plugin-dir={PLUGIN_DIR}", "-lockfile=readonly")),
        ("apply", ("apply", "-auto-approve", "-input=false", f"-parallelism={PARALLELISM}")),
    ]
    for name, args in steps:
        result = _timed(timings, name, lambda args=args: terraform(*args))  # type: ignore[misc]
        logs[name] = result.output
        if result.code != 0:
            raise RuntimeError(f"the estate did not {name} on the emulator: {result.explain()}")
    outputs = json.loads(terraform("output", "-json").output)
    state = json.loads(terraform("show", "-json").output)
    return Estate(
        endpoint_url=endpoint_url,
        region=REGION,
        account_id=ACCOUNT_ID,
        outputs={name: entry["value"] for name, entry in outputs.items()},
        state=state,
        workdir=workdir,
        terraform=terraform,
        network=network,
        timings=timings,
        logs=logs,
    )


def leftovers(estate: Estate) -> list[str]:
    """What of the estate still exists on the emulator (by the names Terraform gave it)."""
    stack = estate.stack
    left: list[str] = []
    buckets = {b["Name"] for b in estate.client("s3").list_buckets().get("Buckets", [])}
    left += [f"s3 bucket {b}" for b in buckets if b.startswith(f"lakeml-{ENV}") or b == stack["lake_bucket"]]
    tables = estate.client("dynamodb").list_tables()["TableNames"]
    left += [f"dynamodb table {t}" for t in tables if t.startswith(f"lakeml-{ENV}")]
    functions = estate.client("lambda").list_functions()["Functions"]
    left += [
        f"lambda {f['FunctionName']}" for f in functions if f["FunctionName"].startswith(f"lakeml-{ENV}")
    ]
    machines = estate.client("stepfunctions").list_state_machines()["stateMachines"]
    left += [f"state machine {m['name']}" for m in machines if m["name"].startswith(f"lakeml-{ENV}")]
    roles = estate.client("iam").list_roles()["Roles"]
    left += [f"iam role {r['RoleName']}" for r in roles if r["RoleName"].startswith(f"lakeml-{ENV}")]
    keys = estate.client("kms").list_aliases()["Aliases"]
    left += [f"kms alias {a['AliasName']}" for a in keys if a["AliasName"].startswith(f"alias/lakeml-{ENV}")]
    topics = estate.client("sns").list_topics()["Topics"]
    left += [f"sns topic {t['TopicArn']}" for t in topics if f":lakeml-{ENV}" in t["TopicArn"]]
    queues = estate.client("sqs").list_queues(QueueNamePrefix=f"lakeml-{ENV}").get("QueueUrls", [])
    left += [f"sqs queue {q}" for q in queues]
    rules = estate.client("events").list_rules(NamePrefix=f"lakeml-{ENV}")["Rules"]
    left += [f"events rule {r['Name']}" for r in rules]
    alarms = estate.client("cloudwatch").describe_alarms(AlarmNames=stack["alarm_names"])["MetricAlarms"]
    left += [f"alarm {a['AlarmName']}" for a in alarms]
    databases = {d["Name"] for d in estate.client("glue").get_databases()["DatabaseList"]}
    left += [f"glue database {d}" for d in sorted(databases & set(stack["glue_databases"].values()))]
    sagemaker = estate.client("sagemaker")
    try:  # moto has no ListFeatureGroups
        sagemaker.describe_feature_group(FeatureGroupName=stack["feature_group"])
        left.append(f"feature group {stack['feature_group']}")
    except ClientError as exc:
        if aws.error_code(exc) != "ResourceNotFound":
            raise
    pipelines = sagemaker.list_pipelines()["PipelineSummaries"]
    names = set(stack["pipelines"]["names"].values())
    left += [f"pipeline {p['PipelineName']}" for p in pipelines if p["PipelineName"] in names]
    # A deleted ECS cluster stays listed, INACTIVE, as on AWS.
    cluster = stack["dbt_task"]["cluster_arn"]
    described = estate.client("ecs").describe_clusters(clusters=[cluster])["clusters"]
    left += [f"ecs cluster {c['clusterArn']}" for c in described if c["status"] == "ACTIVE"]
    return left


def destroy_estate(estate: Estate) -> None:
    """`terraform destroy`; raise when it fails, when the state still lists resources, or when the
    emulator still holds any of them."""
    result = _timed(
        estate.timings,
        "destroy",
        lambda: estate.terraform("destroy", "-auto-approve", "-refresh=false", f"-parallelism={PARALLELISM}"),
    )
    estate.logs["destroy"] = result.output
    if result.code != 0:
        raise RuntimeError(f"the estate did not destroy cleanly: {result.explain()}")
    listed = estate.terraform("state", "list")
    remaining = [line for line in listed.output.splitlines() if line.strip()]
    if listed.code != 0 or remaining:
        raise RuntimeError(f"terraform destroy left resources in the state: {remaining or listed.explain()}")
    left = leftovers(estate)
    if left:
        raise RuntimeError(f"terraform destroy left resources on the emulator: {left}")
