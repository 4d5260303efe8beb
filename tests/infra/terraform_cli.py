"""Running Terraform offline in tests: the plugin mirror, the environment, the skip-or-fail rule.

Shared by tests/infra/test_terraform.py (validate, `terraform test`) and tests/infra/emulator/ (apply to
moto). Every call runs with an empty CLI config and the provider from the local plugin mirror, so no test
reaches a registry, and on a copy of infra/ so nothing is written into the repo.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import missing_tool

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
PROVIDER_VERSION = "5.100.0"
PLUGIN_DIR = Path(os.environ.get("LAKEML_TEST_TF_PLUGIN_DIR", "/opt/tf-plugins"))
PROVIDER_DIR = PLUGIN_DIR / "registry.terraform.io" / "hashicorp" / "aws" / PROVIDER_VERSION


@dataclass(frozen=True)
class Result:
    args: list[str]
    code: int
    output: str

    def explain(self) -> str:
        return f"`terraform {' '.join(self.args)}` exited {self.code}:\n{self.output}"


@dataclass(frozen=True)
class Workspace:
    """A throwaway copy of infra/ and the environment every terraform call in it runs with."""

    root: Path
    env: dict[str, str]
    terraform: str

    def run(self, directory: Path, *args: str, timeout: int = 180) -> Result:
        proc = subprocess.run(
            [self.terraform, f"-chdir={directory}", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(list(args), proc.returncode, proc.stdout + proc.stderr)


def terraform_or_skip() -> str:
    """The terraform binary, once the mirror is known to hold the pinned provider; otherwise skip (or
    fail where LAKEML_TEST_REQUIRE_TOOLS lists terraform) saying what is missing."""
    terraform = shutil.which("terraform")
    if terraform is None:
        missing_tool(
            "terraform",
            "terraform binary not found on PATH; install Terraform >= 1.11 to run the infra tests",
        )
    if not PROVIDER_DIR.is_dir():
        missing_tool(
            "terraform",
            f"Terraform plugin mirror missing: no hashicorp/aws {PROVIDER_VERSION} under {PLUGIN_DIR} "
            "(set LAKEML_TEST_TF_PLUGIN_DIR to a mirror that has it)",
        )
    return terraform


def workspace(base: Path, extra_env: dict[str, str] | None = None) -> Workspace:
    """Copy infra/ under `base` (without state or .terraform) and build the offline environment."""
    terraform = terraform_or_skip()
    shutil.copytree(INFRA, base / "infra", ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    cli_config = base / "terraformrc"
    cli_config.write_text("# empty: providers come from -plugin-dir, nothing from a registry\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))},
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",  # no version check call-home
        "AWS_EC2_METADATA_DISABLED": "true",
        **(extra_env or {}),
    }
    return Workspace(base / "infra", env, terraform)
