"""The CLI's shared behaviour: help, --json placement, exit codes and configuration errors."""

from __future__ import annotations

import subprocess
import sys


def test_help_lists_every_stage(lakeml):
    result = lakeml("--help")
    assert result.code == 0, result
    for stage in ("source", "run", "config"):
        assert stage in result.stdout


def test_help_loads_no_heavy_library(home):
    """`lakeml --help` stays fast because heavy libraries load inside commands (checked by what is
    imported, not by a clock: timing asserts fail on a loaded machine)."""
    proc = subprocess.run([sys.executable, "-m", "lakeml.cli.main", "--help"], capture_output=True)
    assert proc.returncode == 0
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, lakeml.cli.main; print(sorted(m for m in ('great_expectations', 'xgboost', "
            "'sagemaker', 'snowflake', 'pyspark', 'dbt', 'fakesnow', 'boto3', 'pandas') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert heavy.stdout.strip() == "[]"


def test_config_show_masks_secrets(lakeml):
    result = lakeml("config", "show", "--json", env={"LAKEML_SOURCE__PASSWORD": "canary-s3cr3t"})
    assert result.code == 0, result
    assert "canary-s3cr3t" not in result.stdout + result.stderr
    assert result.json["settings"]["source"]["password"] == "**********"


def test_json_flag_works_before_the_subcommand(lakeml):
    result = lakeml("--json", "config", "show")
    assert result.code == 0, result
    assert result.json["settings"]["env"] == "local"


def test_bad_environment_value_exits_2_naming_key_value_and_choices(lakeml):
    result = lakeml("config", "show", env={"LAKEML_ENV": "prod"})
    assert result.code == 2, result
    assert "env='prod'" in result.stderr
    assert "'local' or 'aws'" in result.stderr


def test_unknown_setting_in_config_file_exits_2(lakeml, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('colour = "blue"\n')
    result = lakeml("--json", "config", "show", env={"LAKEML_CONFIG": str(config)})
    assert result.code == 2, result
    assert "colour" in result.json["error"]


def test_missing_config_file_named_by_env_exits_2(lakeml, tmp_path):
    result = lakeml("config", "show", env={"LAKEML_CONFIG": str(tmp_path / "nope.toml")})
    assert result.code == 2, result
    assert "nope.toml" in result.stderr


def test_an_unknown_lakeml_variable_exits_2_with_the_closest_setting(lakeml):
    result = lakeml("config", "show", env={"LAKEML_AWS__LAKE_BUKET": "b"})
    assert result.code == 2, result
    assert "LAKEML_AWS__LAKE_BUKET is not a lakeml setting" in result.stderr
    assert "did you mean LAKEML_AWS__LAKE_BUCKET?" in result.stderr


def test_a_variable_of_an_earlier_release_names_its_new_name(lakeml):
    result = lakeml("config", "show", env={"LAKEML_SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/x"})
    assert result.code == 2, result
    assert "LAKEML_SAGEMAKER_ROLE_ARN was renamed LAKEML_AWS__SAGEMAKER_ROLE_ARN" in result.stderr


def test_an_ill_formed_arn_exits_2_naming_the_key_and_its_variable(lakeml):
    result = lakeml("config", "show", env={"LAKEML_AWS__SAGEMAKER_ROLE_ARN": "lakeml-sagemaker"})
    assert result.code == 2, result
    assert "aws.sagemaker_role_arn='lakeml-sagemaker' is not well-formed" in result.stderr
    assert "LAKEML_AWS__SAGEMAKER_ROLE_ARN" in result.stderr


def test_config_show_documents_every_aws_name_with_its_variable_and_value(lakeml):
    role = "arn:aws:iam::123456789012:role/lakeml-sagemaker"
    result = lakeml("config", "show", "--json", env={"LAKEML_AWS__SAGEMAKER_ROLE_ARN": role})
    assert result.code == 0, result
    keys = {row["key"]: row for row in result.json["keys"]}
    for name in (
        "lake_bucket",
        "watermark_table",
        "sagemaker_role_arn",
        "glue_role_arn",
        "image_uri",
        "deploy_function_arn",
        "state_machine_arn",
        "warning_topic_arn",
        "critical_topic_arn",
        "account_id",
        "region",
    ):
        row = keys[f"aws.{name}"]
        assert row["env"] == f"LAKEML_AWS__{name.upper()}"
        assert row["description"], f"aws.{name} has no description"
    assert keys["aws.sagemaker_role_arn"]["value"] == role
    assert keys["source.password"]["value"] == "**********"


def test_notifications_lists_what_the_local_sink_holds(lakeml, home):
    from lakeml.core.settings import load_settings
    from lakeml.notify.port import Notification
    from lakeml.wiring import adapters

    empty = lakeml("notifications")
    assert empty.code == 0, empty
    assert "no notifications" in empty.stdout
    adapters(load_settings()).notifier.notify(
        Notification(severity="critical", subject="stage ingest failed", message="m", source="flow:ingest")
    )
    result = lakeml("notifications", "--json")
    assert result.code == 0, result
    [got] = result.json["notifications"]
    assert (got["severity"], got["subject"], got["source"]) == (
        "critical",
        "stage ingest failed",
        "flow:ingest",
    )
