"""Granted actions that no recorded call uses, each with the reason it is granted anyway.

Keyed by role (its name without the env's `lakeml-<env>-` prefix), then by action as IAM spells it. A
reason names who makes the call (almost always an AWS service acting as the role, which no test here can
record) and why lakeml needs it. An action listed here that a runtime does use is fine; an unused action
missing here fails tests/infra/emulator/test_least_privilege.py, and the fix is to remove the grant from
infra/modules, or to explain it here.
"""

from __future__ import annotations

LAMBDA_RUNTIME = {
    "logs:CreateLogStream": "the Lambda service writes the function's logs to its log group as the role",
    "logs:PutLogEvents": "the Lambda service writes the function's logs to its log group as the role",
    "xray:PutTraceSegments": "active tracing: the Lambda runtime's X-Ray daemon sends segments as the role",
    "xray:PutTelemetryRecords": "active tracing: the Lambda runtime's X-Ray daemon sends telemetry as the role",
}
KMS_THROUGH_SERVICES = {
    "kms:Decrypt": "S3/DynamoDB/Secrets Manager/SNS decrypt with the lake CMK on the role's behalf (kms:ViaService); "
    "the services make the KMS call, not lakeml, so the emulator cannot record it",
    "kms:GenerateDataKey": "S3/DynamoDB/Secrets Manager/SNS encrypt with the lake CMK on the role's behalf "
    "(kms:ViaService); made by the service, not recordable here",
}

SAGEMAKER_KEY_GRANTS = {
    "kms:CreateGrant": "SageMaker creates grants on the CMK as the caller when a job, endpoint config or feature "
    "group names the key (kms:ViaService sagemaker); made by SageMaker, not recordable here",
    "kms:DescribeKey": "SageMaker describes the CMK named by the job, endpoint config or feature group as the caller",
}
PYARROW_ABORT = {
    "s3:AbortMultipartUpload": "pyarrow writes every object as a multipart upload and aborts it when the write "
    "fails (crash and error paths the emulator run does not take)",
}
DEPLOYER = {
    **LAMBDA_RUNTIME,
    **KMS_THROUGH_SERVICES,
    **SAGEMAKER_KEY_GRANTS,
    "s3:ListBucket": "SageMakerDeployer._check_artefact lists the model folder when ModelDataUrl is a folder "
    "rather than a model.tar.gz (the run here deploys a file)",
    "sagemaker:UpdateEndpoint": "the blue/green update of an endpoint that already serves (moto 5.2.5 has no "
    "UpdateEndpoint, so only the first deploy runs here)",
    "cloudwatch:PutMetricAlarm": "PutScalingPolicy (target tracking) makes Application Auto Scaling create the "
    "tracking alarms as the caller",
    "cloudwatch:DescribeAlarms": "Application Auto Scaling reads the tracking alarms as the caller",
    "cloudwatch:DeleteAlarms": "Application Auto Scaling replaces the tracking alarms as the caller when the policy changes",
    "iam:CreateServiceLinkedRole": "the first RegisterScalableTarget for SageMaker creates Application Auto "
    "Scaling's service-linked role as the caller",
}
SAGEMAKER_RUNS_THE_JOBS = "SageMaker Pipelines runs the steps as the pipeline's role (the execution role): "
EXECUTION = {
    **KMS_THROUGH_SERVICES,
    **SAGEMAKER_KEY_GRANTS,
    **PYARROW_ABORT,
    **{
        f"sagemaker:{verb}{kind}": SAGEMAKER_RUNS_THE_JOBS + f"it {verb.lower()}s the {kind} of a step; moto "
        "runs no pipeline (StartPipelineExecution starts nothing)"
        for verb in ("Create", "Describe", "Stop")
        for kind in ("ProcessingJob", "TrainingJob", "HyperParameterTuningJob", "TransformJob")
    },
    "sagemaker:ListTrainingJobsForHyperParameterTuningJob": SAGEMAKER_RUNS_THE_JOBS
    + "the Tune step lists its "
    "training jobs to pick the best one",
    "sagemaker:CreateModel": SAGEMAKER_RUNS_THE_JOBS + "the scoring pipeline's model step creates the model "
    "its batch transform runs",
    "sagemaker:DescribeModel": SAGEMAKER_RUNS_THE_JOBS + "the model step describes the model it created",
    "sagemaker:AddTags": SAGEMAKER_RUNS_THE_JOBS + "it tags every job it creates with the pipeline execution",
    "sagemaker:ListTags": SAGEMAKER_RUNS_THE_JOBS + "it reads the tags of the jobs it created",
    "sagemaker:ListModelPackages": "the Evaluate and BatchInputs jobs look up the champion in the registry "
    "(ml_pipelines/registry/sagemaker.py); they need a trained model and do not run here",
    "lambda:InvokeFunction": SAGEMAKER_RUNS_THE_JOBS
    + "the DeployStaging LambdaStep invokes the deploy-staging Lambda",
    "ecr:GetAuthorizationToken": "SageMaker pulls the jobs' image as the execution role",
    "ecr:BatchGetImage": "SageMaker pulls the jobs' image as the execution role",
    "ecr:GetDownloadUrlForLayer": "SageMaker pulls the jobs' image as the execution role",
    "ecr:BatchCheckLayerAvailability": "SageMaker pulls the jobs' image as the execution role",
    "logs:CreateLogGroup": "SageMaker ships the jobs' stdout/stderr to /aws/sagemaker/* as the execution role",
    "logs:CreateLogStream": "SageMaker ships the jobs' stdout/stderr to /aws/sagemaker/* as the execution role",
    "logs:PutLogEvents": "SageMaker ships the jobs' stdout/stderr to /aws/sagemaker/* as the execution role",
    "logs:DescribeLogStreams": "SageMaker ships the jobs' stdout/stderr to /aws/sagemaker/* as the execution role",
    "cloudwatch:PutMetricData": "training and tuning jobs publish their objective metric (namespace /aws/sagemaker/*)",
    "s3:DeleteObject": "the jobs' lake writes under ml/ and predictions/ are a temporary object and a move "
    "(copy + delete); SageMaker's own output uploads replace objects there",
    "s3:GetBucketLocation": "SageMaker resolves the bucket's region before it downloads the channels and uploads outputs",
    "s3:GetBucketAcl": "the feature group's offline store checks the bucket's ACL as the group's role",
    "s3:PutObjectAcl": "the feature group's offline store writes its Parquet with bucket-owner-full-control as the group's role",
    "glue:GetDatabase": "the offline store keeps the group's Glue table as the group's role",
    "glue:GetTable": "the offline store keeps the group's Glue table as the group's role",
    "glue:CreateTable": "the offline store creates the group's Glue table as the group's role",
    "glue:UpdateTable": "the offline store updates the group's Glue table as the group's role",
    "kms:Encrypt": "the offline store encrypts its Parquet with the CMK through SageMaker",
}

DBT_GLUE = "dbt-glue (the transform task) "
NOT_RUN_DBT_GLUE = (
    "; dbt-glue calls Glue through boto3's default session and needs a Glue session, neither on the emulator"
)
GLUE_SESSION = "the Glue interactive session dbt-glue opens runs as the Glue role: its Spark "
ECS_AGENT = "the ECS agent (Fargate) "

JUSTIFICATIONS: dict[str, dict[str, str]] = {
    "ingestion": {
        **LAMBDA_RUNTIME,
        **KMS_THROUGH_SERVICES,
        **PYARROW_ABORT,
        "sqs:SendMessage": "Lambda sends a failed asynchronous invocation to the on-failure destination (the DLQ) "
        "as the function's role",
    },
    "notify": {**LAMBDA_RUNTIME, **KMS_THROUGH_SERVICES},
    "quality": {**LAMBDA_RUNTIME, **KMS_THROUGH_SERVICES, **PYARROW_ABORT},
    "on-approval": DEPLOYER,
    "deploy-staging": {
        **DEPLOYER,
        "sagemaker:DescribeEndpointConfig": "SageMakerDeployer.serving reads the config of an endpoint that "
        "already serves (a second deploy to staging updates it: moto 5.2.5 has no UpdateEndpoint)",
        "sagemaker:DescribeModel": "SageMakerDeployer.serving reads the model of an endpoint that already serves",
    },
    "model-approver": {
        **KMS_THROUGH_SERVICES,
        "ApprovalHistoryList/s3:ListBucket": "not called: with it, S3 answers the GetObject of a version's first "
        "approvals.json with 404 instead of 403, so the history can tell 'none yet' from 'denied'",
    },
    "dbt-task": {
        **KMS_THROUGH_SERVICES,
        **PYARROW_ABORT,
        **{
            f"glue:{op}": DBT_GLUE + f"calls {op} to drive its interactive session" + NOT_RUN_DBT_GLUE
            for op in (
                "CreateSession",
                "GetSession",
                "StopSession",
                "DeleteSession",
                "RunStatement",
                "GetStatement",
                "ListStatements",
                "CancelStatement",
            )
        },
        **{
            f"glue:{op}": DBT_GLUE
            + f"lists schemas and relations with {op} (its catalog client)"
            + NOT_RUN_DBT_GLUE
            for op in ("GetDatabase", "GetDatabases", "GetTable", "GetTables")
        },
        "glue:UpdateTable": DBT_GLUE + "persists model docs into the tables' descriptions" + NOT_RUN_DBT_GLUE,
        "iam:PassRole": DBT_GLUE + "passes the Glue role to CreateSession" + NOT_RUN_DBT_GLUE,
        "kms:Encrypt": "the Glue Data Catalog is SSE-KMS: Glue encrypts the metadata dbt-glue writes with the CMK "
        "on the caller's behalf",
    },
    "dbt-execution": {
        "ecr:GetAuthorizationToken": ECS_AGENT + "logs in to ECR to pull the ML image",
        "ecr:BatchGetImage": ECS_AGENT + "pulls the ML image",
        "ecr:GetDownloadUrlForLayer": ECS_AGENT + "pulls the ML image's layers",
        "ecr:BatchCheckLayerAvailability": ECS_AGENT + "checks the ML image's layers",
        "logs:CreateLogStream": ECS_AGENT + "ships the container's output (awslogs driver)",
        "logs:PutLogEvents": ECS_AGENT + "ships the container's output (awslogs driver)",
    },
    "glue": {
        **KMS_THROUGH_SERVICES,
        "kms:Encrypt": "the security configuration encrypts session logs and bookmarks with the CMK as the session role",
        "s3:GetObject": GLUE_SESSION + "reads every layer dbt's models select from",
        "s3:PutObject": GLUE_SESSION + "writes the models' partitions in silver/gold/quarantine",
        "s3:DeleteObject": GLUE_SESSION
        + "rewrites partitions (insert_overwrite) and commits through _temporary",
        "s3:AbortMultipartUpload": GLUE_SESSION + "aborts the upload of a failed task's output",
        "s3:ListBucket": GLUE_SESSION + "lists the layers' partitions",
        "s3:GetBucketLocation": GLUE_SESSION + "(the S3A/EMRFS client) resolves the bucket's region",
        **{
            f"glue:{op}": GLUE_SESSION + f"catalog client calls {op} (Spark's Hive metastore on Glue)"
            for op in (
                "GetDatabase",
                "GetDatabases",
                "GetTable",
                "GetTables",
                "GetPartition",
                "GetPartitions",
                "BatchGetPartition",
                "GetUserDefinedFunction",
                "GetUserDefinedFunctions",
                "CreateTable",
                "UpdateTable",
                "DeleteTable",
                "CreatePartition",
                "BatchCreatePartition",
                "UpdatePartition",
                "DeletePartition",
                "BatchDeletePartition",
                "BatchUpdatePartition",
                "CreateDatabase",
            )
        },
        "logs:CreateLogGroup": "Glue writes the session's logs to /aws-glue/* as the session role",
        "logs:CreateLogStream": "Glue writes the session's logs to /aws-glue/* as the session role",
        "logs:PutLogEvents": "Glue writes the session's logs to /aws-glue/* as the session role",
        "logs:AssociateKmsKey": "Glue encrypts the session's log group with the CMK (security configuration)",
    },
    "sagemaker-execution": {
        **EXECUTION,
        "LakeReadGold/s3:GetObject": "SageMaker downloads the gold channels (processing and training inputs) into "
        "the jobs as the execution role; the jobs read no S3 themselves",
        "LakeWriteMlAndPredictions/s3:GetObject": "SageMaker downloads a step's inputs from ml/ (the previous "
        "step's outputs, the model artefact) as the execution role",
        "LakeWriteMlAndPredictions/s3:PutObject": "SageMaker uploads the steps' outputs to ml/ and batch "
        "transform's to predictions/ as the execution role",
    },
    "daily-flow": {
        "logs:CreateLogDelivery": "Step Functions configures the state machine's log delivery as its role (logging_configuration)",
        "logs:GetLogDelivery": "Step Functions configures the state machine's log delivery as its role",
        "logs:UpdateLogDelivery": "Step Functions configures the state machine's log delivery as its role",
        "logs:DeleteLogDelivery": "Step Functions configures the state machine's log delivery as its role",
        "logs:ListLogDeliveries": "Step Functions configures the state machine's log delivery as its role",
        "logs:PutResourcePolicy": "Step Functions lets CloudWatch Logs accept its vended logs (resource policy) as its role",
        "logs:DescribeResourcePolicies": "Step Functions checks the vended-logs resource policy as its role",
        "logs:DescribeLogGroups": "Step Functions checks the log group exists when logging is configured",
        "xray:PutTraceSegments": "tracing_configuration.enabled: Step Functions sends trace segments as the role",
        "xray:PutTelemetryRecords": "tracing_configuration.enabled: Step Functions sends telemetry as the role",
        "xray:GetSamplingRules": "tracing_configuration.enabled: Step Functions reads the sampling rules as the role",
        "xray:GetSamplingTargets": "tracing_configuration.enabled: Step Functions reads sampling targets as the role",
    },
}

# Roles whose runtime does not run on the emulator, and why (the report and docs/infra.md say it too).
NOT_RUN: dict[str, str] = {
    "glue": "the Glue interactive session's Spark runs inside AWS Glue; moto has no Glue sessions that execute code",
    "dbt-execution": "the ECS agent pulls the image and ships logs as this role; no ECS agent runs on the emulator",
}


def role_key(role: str, env: str = "dev") -> str:
    return role.removeprefix(f"lakeml-{env}-")


def justified(role: str, env: str = "dev") -> dict[str, str]:
    """Reasons by action, or by `<Sid>/<action>` for one statement's grant of an action."""
    return dict(JUSTIFICATIONS.get(role_key(role, env), {}))
