"""config/envs/<env>.toml: one validated settings file per Terraform env root (infra/envs/<env>)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from lakeml.cli import refs
from lakeml.core.settings import reference

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / "config/envs"
ENVS = sorted(p.name for p in (REPO / "infra/envs").iterdir() if p.is_dir())


def _keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for name, value in data.items():
        key = f"{prefix}{name}"
        keys |= _keys(value, f"{key}.") if isinstance(value, dict) else {key}
    return keys


def test_there_is_one_settings_file_per_terraform_env() -> None:
    assert sorted(p.stem for p in CONFIG_DIR.glob("*.toml")) == ENVS == ["dev", "prod", "staging"]


@pytest.mark.parametrize("env", ENVS)
def test_the_env_file_loads_through_the_cli_with_only_known_keys(lakeml, env: str) -> None:
    """`lakeml config show` validates the file with load_settings (unknown keys exit 2)."""
    path = CONFIG_DIR / f"{env}.toml"
    result = lakeml("config", "show", "--json", env={"LAKEML_CONFIG": str(path)})
    assert result.code == 0, result
    assert result.json["config_file"] == str(path) and result.json["settings"]["env"] == "aws"
    assert result.json["settings"]["transform"]["target"] == "glue"
    known = {row["key"] for row in reference()}
    assert _keys(tomllib.loads(path.read_text())) <= known


@pytest.mark.parametrize("env", ENVS)
def test_the_env_file_holds_no_secret_and_no_name_terraform_owns(env: str) -> None:
    keys = _keys(tomllib.loads((CONFIG_DIR / f"{env}.toml").read_text()))
    secrets = {row["key"] for row in reference() if "SecretStr" in row["type"]}
    assert secrets and not keys & secrets, f"secrets belong in Secrets Manager, not {env}.toml"
    owned = {"aws.lake_bucket", "aws.account_id", "aws.image_uri", "source.secret_id", "home"}
    owned |= {k for k in keys if k.endswith("_arn")}
    assert not keys & owned, f"{sorted(keys & owned)}: these come from `terraform output lakeml_env`"


@pytest.mark.parametrize("env", ENVS)
def test_the_env_file_agrees_with_its_terraform_root(env: str) -> None:
    """Same region as the root's default, and the log level the root gives its Lambdas (stack default else)."""
    settings = tomllib.loads((CONFIG_DIR / f"{env}.toml").read_text())
    root = {b.name: b for b in refs.module_blocks(REPO / "infra/envs" / env)}
    assert settings["aws"]["region"] == root["region"].text("default")
    stack = {b.name: b for b in refs.module_blocks(REPO / "infra/modules/stack")}
    main = (REPO / "infra/envs" / env / "main.tf").read_text()
    level = next(
        (
            line.split("=")[1].strip().strip('"')
            for line in main.splitlines()
            if line.strip().startswith("log_level")
        ),
        stack["log_level"].text("default"),
    )
    assert settings["log_level"] == level
