"""`lakeml deploy …` through the real command line, with a stand-in `terraform` that records its arguments.

Nothing reaches AWS: the checkout is a small git repository made here (two env roots, a release tag with
its image note), and the endpoint rollback runs on the local registry and endpoint of the test's home.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from ml_pipelines.registry.sqlite import SqliteModelRegistry
from tests.cli.test_models_cli import GROUP
from tests.cli.test_models_cli import registry as registry  # the fixture, reused

REPO = Path(__file__).resolve().parents[2]
ML = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml-dev-ml@sha256:" + "a" * 64
LAMBDA = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakeml-dev-lambda@sha256:" + "b" * 64
OLD_ML = ML.replace("a" * 64, "c" * 64)
STAND_IN = """#!/bin/sh
# stand-in terraform: records <subcommand>|<first line of the root's main.tf>|<tfvars there?>|<args>
chdir=""; sub=""
for a in "$@"; do case "$a" in -chdir=*) chdir="${a#-chdir=}";; -*) ;; *) [ -z "$sub" ] && sub="$a";; esac; done
vars=no; [ -f "$chdir/terraform.tfvars" ] && vars=yes
printf '%s|%s|%s|%s\\n' "$sub" "$(head -n1 "$chdir/main.tf" 2>/dev/null)" "$vars" "$*" >> "$LAKEML_TEST_TF_LOG"
if [ "$sub" = output ]; then printf '%s' "$LAKEML_TEST_TF_OUTPUT"; else echo "stand-in terraform $sub"; fi
if [ "$sub" = "${LAKEML_TEST_TF_FAIL:-none}" ]; then echo "Error: stand-in $sub failed" >&2; exit 1; fi
exit 0
"""


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lakeml-shaped repository: infra/envs/{dev,prod}, tag v1.0 (with its image note), then a change."""
    root = tmp_path / "repo"
    for env in ("dev", "prod"):
        (root / "infra/envs" / env).mkdir(parents=True)
        (root / "infra/envs" / env / "main.tf").write_text("# release 1\n")
    (root / "config/envs").mkdir(parents=True)
    shutil.copy(REPO / "config/envs/dev.toml", root / "config/envs/dev.toml")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "release 1")
    _git(root, "tag", "v1.0")
    _git(root, "notes", "--ref=lakeml-images-dev", "add", "-m", f"ml {OLD_ML}\nlambda {LAMBDA}", "v1.0")
    (root / "infra/envs/dev/main.tf").write_text("# release 2\n")
    _git(root, "commit", "-qam", "release 2")
    _git(root, "tag", "v2.0-no-images")
    (root / "infra/envs/dev/terraform.tfvars").write_text('account_id = "123456789012"\n')  # not committed
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def tf(tmp_path: Path) -> dict[str, str]:
    """Environment putting the stand-in terraform first on PATH; its log is at env['LAKEML_TEST_TF_LOG']."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "terraform"
    script.write_text(STAND_IN)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "LAKEML_TEST_TF_LOG": str(tmp_path / "terraform.log"),
        "LAKEML_TEST_TF_OUTPUT": '{"lakeml_env": {"LAKEML_ENV": "local"}}',
        "CI": "",
    }


def calls(env: dict[str, str]) -> list[list[str]]:
    log = Path(env["LAKEML_TEST_TF_LOG"])
    return [line.split("|", 3) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def images(tmp_path: Path) -> Path:
    path = tmp_path / "images.txt"
    path.write_text(f"ml {ML}\nlambda {LAMBDA}\n")  # what `make images` prints
    return path


def test_dry_run_prints_the_plan_and_runs_nothing(lakeml, checkout: Path, images: Path, tf) -> None:
    result = lakeml("deploy", "env", "dev", "--images", str(images), "--dry-run", "--json", env=tf)
    assert result.code == 0, result
    doc = result.json
    assert (doc["dry_run"], doc["done"], doc["images"]["ml"]) == (True, False, ML)
    commands = [step["command"] for step in doc["plan"]]
    where = checkout / "infra/envs/dev"
    assert commands[0].startswith(f"terraform -chdir={where} init -input=false")
    assert (
        f"plan -input=false -out=dev.tfplan -var lambda_image_uri={LAMBDA} -var ml_image_uri={ML}"
        in commands[1]
    )
    assert commands[2].endswith("apply -input=false dev.tfplan")
    assert [step["changes"] for step in doc["plan"]] == [False, False, True]
    assert "terraform plan" in result.stderr and calls(tf) == []


def test_the_pipelines_second_apply_is_planned_after_the_first(lakeml, checkout: Path, images: Path) -> None:
    result = lakeml("--json", "deploy", "env", "dev", "--images", str(images), "--pipelines", "--dry-run")
    assert result.code == 0, result
    whats = [step["what"] for step in result.json["plan"]]
    assert "lakeml_env" in whats[3] and "training.json" in whats[4] and "scoring.json" in whats[5]
    assert "pipeline_definition_files=" in result.json["plan"][6]["command"]


def test_deploy_with_yes_runs_init_plan_and_applies_that_plan(
    lakeml, checkout: Path, images: Path, tf
) -> None:
    result = lakeml(
        "deploy", "env", "dev", "--images", str(images), "--yes", "--json",
        "--backend-config", "bucket=acct-lakeml-tfstate", env=tf,
    )  # fmt: skip
    assert result.code == 0, result
    assert result.json["done"] is True  # terraform's own output went to stderr: stdout is one JSON document
    assert "stand-in terraform apply" in result.stderr
    recorded = calls(tf)
    assert [c[0] for c in recorded] == ["init", "plan", "apply"]
    assert all(c[1] == "# release 2" for c in recorded)  # the current checkout's root
    assert "-backend-config=bucket=acct-lakeml-tfstate" in recorded[0][3]
    assert f"-var ml_image_uri={ML}" in recorded[1][3] and recorded[2][3].endswith(
        "apply -input=false dev.tfplan"
    )


def test_in_ci_without_yes_nothing_is_asked_and_nothing_runs(
    lakeml, checkout: Path, images: Path, tf
) -> None:
    result = lakeml("deploy", "env", "prod", "--images", str(images), env={**tf, "CI": "true"})
    assert result.code == 2, result
    assert "nothing is asked here (CI=true)" in result.stderr and "--yes" in result.stderr
    assert calls(tf) == []


def test_a_failed_apply_exits_1_naming_the_step(lakeml, checkout: Path, images: Path, tf) -> None:
    result = lakeml(
        "deploy",
        "env",
        "dev",
        "--images",
        str(images),
        "-y",
        "--json",
        env={**tf, "LAKEML_TEST_TF_FAIL": "apply"},
    )
    assert result.code == 1, result
    assert "terraform apply of that saved plan failed (exit 1)" in result.json["error"]
    assert "Error: stand-in apply failed" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("deploy", "env", "qa", "--dry-run"), "unknown env 'qa': use one of dev, prod"),
        (("deploy", "env", "dev", "--dry-run"), "image digests missing: pass --images FILE"),
        (("deploy", "rollback-infra", "dev", "--tag", "v7", "--dry-run"), "tag 'v7' does not exist here"),
        (
            ("deploy", "rollback-infra", "prod", "--tag", "v1.0", "--dry-run"),
            "no prod image digests recorded",
        ),
        (
            ("deploy", "rollback-infra", "dev", "--tag", "v2.0-no-images", "--dry-run"),
            "no dev image digests recorded",
        ),
    ],
)
def test_usage_errors_exit_2_saying_what_to_do(
    lakeml, checkout: Path, args: tuple[str, ...], message: str
) -> None:
    result = lakeml(*args)
    assert result.code == 2, result
    assert message in result.stderr


def test_an_image_without_a_digest_or_a_missing_one_is_refused(
    lakeml, checkout: Path, tmp_path: Path
) -> None:
    loose = tmp_path / "loose.json"
    loose.write_text(f'{{"ml": "{ML.split("@")[0]}:latest", "lambda": "{LAMBDA}"}}')
    result = lakeml("deploy", "env", "dev", "--images", str(loose), "--dry-run")
    assert result.code == 2 and "is not pinned by digest" in result.stderr, result
    loose.write_text(f"ml {ML}\n")
    result = lakeml("deploy", "env", "dev", "--images", str(loose), "--dry-run")
    assert result.code == 2 and "no lambda image" in result.stderr, result


def test_no_terraform_on_path_exits_2_saying_where_to_get_it(
    lakeml, checkout: Path, images: Path, tmp_path
) -> None:
    only_git = tmp_path / "only-git"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    result = lakeml("deploy", "env", "dev", "--images", str(images), "--yes", env={"PATH": str(only_git)})
    assert result.code == 2, result
    assert "terraform is not on PATH: install Terraform" in result.stderr


def test_rollback_infra_applies_the_tags_infra_with_its_digests_then_removes_the_worktree(
    lakeml, checkout: Path, tf
) -> None:
    result = lakeml("deploy", "rollback-infra", "dev", "--tag", "v1.0", "--yes", "--json", env=tf)
    assert result.code == 0, result
    doc = result.json
    assert doc["images"]["ml"] == OLD_ML and doc["copied"] == ["terraform.tfvars"]
    recorded = calls(tf)
    assert [c[0] for c in recorded] == ["init", "plan", "apply"]
    # the tag's main.tf, with this checkout's untracked tfvars copied beside it
    assert all(c[1:3] == ["# release 1", "yes"] for c in recorded)
    assert (
        f"-chdir={doc['worktree']}/infra/envs/dev" in recorded[1][3]
        and f"ml_image_uri={OLD_ML}" in recorded[1][3]
    )
    assert not Path(doc["worktree"]).exists()
    assert len(_git(checkout, "worktree", "list").splitlines()) == 1


def test_rollback_endpoint_plans_then_serves_the_previous_approved(
    lakeml, registry: SqliteModelRegistry, tf
) -> None:
    assert lakeml("models", "approve", "1", "--by", "alice", "--reason", "first").code == 0
    assert lakeml("models", "approve", "3", "--by", "alice", "--reason", "better").code == 0
    planned = lakeml("deploy", "rollback-endpoint", "--dry-run", "--json")
    assert planned.code == 0, planned
    assert (planned.json["from"], planned.json["to"], planned.json["done"]) == (
        f"{GROUP}/3",
        f"{GROUP}/1",
        False,
    )
    refused = lakeml("deploy", "rollback-endpoint", env={"CI": "true"})
    assert refused.code == 2 and "--yes" in refused.stderr, refused
    done = lakeml("deploy", "rollback-endpoint", "--yes", "--json")
    assert done.code == 0, done
    assert (
        done.json["result"]["version"] == f"{GROUP}/1"
        and done.json["result"]["rolled_back_from"] == f"{GROUP}/3"
    )
    again = lakeml("deploy", "rollback-endpoint", "--dry-run", "--json")
    assert again.code == 1 and "no earlier version is Approved" in again.json["error"], again


def test_rollback_endpoint_of_an_env_takes_its_names_from_terraform_output(
    lakeml, registry: SqliteModelRegistry, checkout: Path, tf
) -> None:
    registry.approve(GROUP, 1, by="alice", reason="first")
    assert lakeml("models", "approve", "2", "--by", "alice", "--reason", "better").code == 0
    result = lakeml("deploy", "rollback-endpoint", "dev", "--dry-run", "--json", env=tf)
    assert result.code == 0, result
    assert (result.json["env"], result.json["to"]) == ("dev", f"{GROUP}/1")
    assert [c[0] for c in calls(tf)] == ["output"]


def test_the_pipelines_second_apply_renders_both_definitions_with_the_envs_names(
    lakeml, checkout: Path, images: Path, tf
) -> None:
    """Step 5 of docs/aws.md: the definitions are rendered with lakeml_env exported (here the stand-in's
    LAKEML_ENV=local) and config/envs/dev.toml, written beside the root, then applied."""
    result = lakeml("deploy", "env", "dev", "--images", str(images), "--pipelines", "-y", "--json", env=tf)
    assert result.code == 0, result
    assert [c[0] for c in calls(tf)] == ["init", "plan", "apply", "output", "apply"]
    where = checkout / "infra/envs/dev"
    for name in ("training.json", "scoring.json"):
        assert json.loads((where / name).read_text())["Version"] == "2020-12-01"
    last = calls(tf)[-1][3]
    assert "-auto-approve" in last and 'pipeline_definition_files={training="training.json"' in last


def test_at_a_terminal_it_asks_after_terraform_plan_and_a_no_applies_nothing(
    checkout: Path, images: Path, tf, home: Path
) -> None:
    """A real terminal on stdin (a pty): init and plan run, the question comes before apply, 'n' stops."""
    import pty
    import sys

    controller, terminal = pty.openpty()
    os.write(controller, b"n\n")
    argv = [sys.executable, "-m", "lakeml.cli.main", "deploy", "env", "dev", "--images", str(images)]
    env = {**os.environ, **tf, "LAKEML_HOME": str(home)}
    done = subprocess.run(
        argv, cwd=checkout, env=env, stdin=terminal, capture_output=True, text=True, timeout=120
    )
    os.close(terminal)
    os.close(controller)
    assert done.returncode == 1, done
    assert "go ahead?" in done.stderr and "not confirmed: nothing that changes AWS was done" in done.stderr
    assert [c[0] for c in calls(tf)] == ["init", "plan"]
