"""The environment infra/ gives the ingestion Lambda is one lakeml's settings accept, field by field.

Terraform cannot see `lakeml/settings.py`: rename a settings field and `terraform validate` still passes,
while the deployed function starts with a default (or refuses to start). This reads the variable names
straight from the module and loads real settings from them, so such a rename fails here. It needs no
Terraform binary.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakeml.core.settings import Settings, load_settings

INFRA = Path(__file__).resolve().parents[2] / "infra"


def _lambda_environment_names() -> set[str]:
    main = (INFRA / "modules" / "ingestion" / "main.tf").read_text()
    block = re.search(r"environment \{\s*variables = \{(?P<body>.*?)\n    \}", main, re.DOTALL)
    assert block, "no `environment { variables = { ... } }` block in infra/modules/ingestion/main.tf"
    return set(re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*=", block.group("body"), re.MULTILINE))


def test_lambda_environment_names_the_adapters_settings() -> None:
    names = _lambda_environment_names()
    required = {
        "LAKEML_ENV",
        "LAKEML_AWS__REGION",
        "LAKEML_AWS__LAKE_BUCKET",
        "LAKEML_AWS__WATERMARK_TABLE",
        "LAKEML_SOURCE__SECRET_ID",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
    }
    assert required <= names, f"missing from the Lambda environment: {sorted(required - names)}"


def test_lambda_environment_loads_into_aws_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "LAKEML_ENV": "aws",
        "LAKEML_HOME": str(tmp_path / "lakeml"),
        "LAKEML_LOG_LEVEL": "INFO",
        "LAKEML_AWS__REGION": "eu-central-1",
        "LAKEML_AWS__LAKE_BUCKET": "lakeml-dev-lake-123456789012-eu-central-1",
        "LAKEML_AWS__WATERMARK_TABLE": "lakeml-dev-watermarks",
        "LAKEML_SOURCE__SECRET_ID": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:lakeml-dev/snowflake-AbCdEf",
    }
    lakeml_names = {name for name in _lambda_environment_names() if name.startswith("LAKEML_")}
    assert lakeml_names == set(values), (
        "the Lambda's LAKEML_* variables changed; give this test a value for each: "
        f"{sorted(lakeml_names ^ set(values))}"
    )
    config = tmp_path / "lakeml.toml"
    config.write_text("")
    monkeypatch.setenv("LAKEML_CONFIG", str(config))
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()

    assert settings.env == "aws"
    assert settings.home == tmp_path / "lakeml"
    assert settings.aws.region == "eu-central-1"
    assert settings.aws.lake_bucket == "lakeml-dev-lake-123456789012-eu-central-1"
    assert settings.aws.watermark_table == "lakeml-dev-watermarks"
    assert settings.source.secret_id == values["LAKEML_SOURCE__SECRET_ID"]


def test_cli_environment_output_is_accepted_beside_the_lambdas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`terraform output lakeml` adds names read outside Settings (pipeline target, dbt-glue profile);
    exporting them all must not make settings refuse to load."""
    stack = (INFRA / "modules" / "stack" / "main.tf").read_text()
    extra = set(re.findall(r"^\s*(LAKEML_[A-Z0-9_]+)\s*=", stack, re.MULTILINE))
    assert {
        "LAKEML_AWS__ACCOUNT_ID",
        "LAKEML_AWS__GLUE_ROLE_ARN",
        "LAKEML_AWS__SAGEMAKER_ROLE_ARN",
        "LAKEML_AWS__IMAGE_URI",
        "LAKEML_AWS__STATE_MACHINE_ARN",
        "LAKEML_AWS__DEPLOY_FUNCTION_ARN",
        "LAKEML_AWS__WARNING_TOPIC_ARN",
        "LAKEML_AWS__CRITICAL_TOPIC_ARN",
    } <= extra
    config = tmp_path / "lakeml.toml"
    config.write_text("")
    monkeypatch.setenv("LAKEML_CONFIG", str(config))
    monkeypatch.setenv("LAKEML_ENV", "aws")
    monkeypatch.setenv("LAKEML_AWS__LAKE_BUCKET", "lakeml-dev-lake")
    samples = {
        "LAKEML_AWS__ACCOUNT_ID": "123456789012",
        "LAKEML_AWS__IMAGE_URI": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml:abc123",
        "LAKEML_AWS__WARNING_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:lakeml-dev-warning",
        "LAKEML_AWS__CRITICAL_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:lakeml-dev-critical",
        "LAKEML_AWS__STATE_MACHINE_ARN": "arn:aws:states:eu-west-1:123456789012:stateMachine:lakeml-dev-daily-flow",
        "LAKEML_AWS__DEPLOY_FUNCTION_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:lakeml-dev-deploy-staging",
        # hardening (private_networking, the CMK): Terraform jsonencodes the lists
        "LAKEML_AWS__SAGEMAKER_KMS_KEY_ARN": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "LAKEML_AWS__SAGEMAKER_SUBNET_IDS": '["subnet-0a1b2c3d4e5f67890","subnet-0f9e8d7c6b5a43210"]',
        "LAKEML_AWS__SAGEMAKER_SECURITY_GROUP_IDS": '["sg-0a1b2c3d4e5f67890"]',
    }
    for name in extra:
        monkeypatch.setenv(name, samples.get(name, "arn:aws:iam::123456789012:role/placeholder"))

    settings = load_settings()

    assert settings.env == "aws" and settings.aws.lake_bucket == "lakeml-dev-lake"
    assert settings.aws.sagemaker_role_arn == "arn:aws:iam::123456789012:role/placeholder"
    assert settings.aws.state_machine_arn == samples["LAKEML_AWS__STATE_MACHINE_ARN"]
    assert settings.aws.warning_topic_arn != settings.aws.critical_topic_arn
    assert settings.aws.sagemaker_subnet_ids == ["subnet-0a1b2c3d4e5f67890", "subnet-0f9e8d7c6b5a43210"]
    assert settings.aws.sagemaker_security_group_ids == ["sg-0a1b2c3d4e5f67890"]
    assert settings.aws.sagemaker_kms_key_arn == samples["LAKEML_AWS__SAGEMAKER_KMS_KEY_ARN"]


def test_every_new_function_and_the_dbt_task_set_only_settings_lakeml_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The four Lambdas (one `function` module, environments from stack/functions.tf) and the dbt ECS task
    set LAKEML_* names Terraform cannot check; settings refuse unknown LAKEML_* names, so a typo there
    would stop the function at start. Every name infra sets must load."""
    sources = [
        INFRA / "modules" / "function" / "main.tf",
        INFRA / "modules" / "stack" / "functions.tf",
        INFRA / "modules" / "transform" / "main.tf",
    ]
    names = {
        name for source in sources for name in re.findall(r"\b(LAKEML_[A-Z0-9_]+)\s*=", source.read_text())
    }
    assert {
        "LAKEML_AWS__WARNING_TOPIC_ARN",
        "LAKEML_TRANSFORM__TARGET",
        "LAKEML_AWS__SAGEMAKER_ROLE_ARN",
    } <= names
    samples = {
        "LAKEML_ENV": "aws",
        "LAKEML_HOME": str(tmp_path / "lakeml"),
        "LAKEML_LOG_LEVEL": "INFO",
        "LAKEML_AWS__REGION": "eu-west-1",
        "LAKEML_AWS__ACCOUNT_ID": "123456789012",
        "LAKEML_AWS__LAKE_BUCKET": "lakeml-dev-lake",
        "LAKEML_AWS__WARNING_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:lakeml-dev-warning",
        "LAKEML_AWS__CRITICAL_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:lakeml-dev-critical",
        "LAKEML_AWS__SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/lakeml-dev-sagemaker-execution",
        "LAKEML_AWS__GLUE_ROLE_ARN": "arn:aws:iam::123456789012:role/lakeml-dev-glue",
        "LAKEML_TRANSFORM__TARGET": "glue",
    }
    assert names <= set(samples), f"give this test a value for {sorted(names - set(samples))}"
    config = tmp_path / "lakeml.toml"
    config.write_text("")
    monkeypatch.setenv("LAKEML_CONFIG", str(config))
    for name in names:
        monkeypatch.setenv(name, samples[name])

    settings = load_settings()

    assert settings.env == "aws" and settings.transform.target == "glue"
    assert settings.aws.critical_topic_arn == samples["LAKEML_AWS__CRITICAL_TOPIC_ARN"]


def test_the_flows_dbt_task_environment_is_spelled_by_the_settings_model() -> None:
    """The state machine's ECS override names settings by key; a key the model lacks is refused, so a
    renamed setting fails here instead of leaving the deployed task on a default."""
    from lakeml.core.settings import environment_of

    assert environment_of({"env": "aws", "transform.target": "glue"}) == {
        "LAKEML_ENV": "aws",
        "LAKEML_TRANSFORM__TARGET": "glue",
    }
    with pytest.raises(ValueError, match="transform.targt"):
        environment_of({"transform.targt": "glue"})
    loaded = load_settings_from(environment_of({"env": "aws", "transform.target": "glue"}))
    assert (loaded.env, loaded.transform.target) == ("aws", "glue")


def load_settings_from(variables: dict[str, str]) -> Settings:
    from lakeml.core import environ

    with environ.scoped(variables):
        return load_settings()
