"""The CLI's shared behaviour: help, --json placement, exit codes and configuration errors."""

from __future__ import annotations

import subprocess
import sys
import time


def test_help_lists_every_stage(lakeml):
    result = lakeml("--help")
    assert result.code == 0, result
    for stage in ("source", "run", "config"):
        assert stage in result.stdout


def test_help_answers_fast_because_heavy_libraries_load_lazily(home):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "lakeml.cli.main", "--help"], capture_output=True)
    assert proc.returncode == 0
    assert time.monotonic() - started < 2.0
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, lakeml.cli.main; print(sorted(m for m in ('great_expectations', 'xgboost', "
            "'sagemaker', 'snowflake', 'pyspark', 'dbt', 'fakesnow') if m in sys.modules))",
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
