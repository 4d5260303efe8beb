"""infra/ is valid Terraform, formatted, and its policies are what the modules' own tests say — offline.

Everything runs on a copy of infra/ under a temporary folder, with an empty CLI config and the provider
from the local plugin mirror, so no test writes into the repo (`.terraform/`, lock files, state) or
reaches a registry or AWS. The behaviour itself (least-privilege policies, the DLQ as the on-failure
destination, the TLS-only lake, the watermark key) is asserted by the `terraform test` suites under
`infra/modules/*/tests/` against a mocked AWS provider; this file runs them and reports each one as a
test. On a machine without Terraform or without the mirror the tests skip and say which is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.infra import terraform_cli
from tests.infra.terraform_cli import INFRA, PLUGIN_DIR, PROVIDER_VERSION, REPO, Result, Workspace

ENVS = sorted(p.name for p in (INFRA / "envs").iterdir() if (p / "main.tf").is_file())
TESTED_MODULES = sorted(
    p.name for p in (INFRA / "modules").iterdir() if any((p / "tests").glob("*.tftest.hcl"))
)

pytestmark = pytest.mark.xdist_group("terraform")


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    yield terraform_cli.workspace(tmp_path_factory.mktemp("terraform"))


@dataclass(frozen=True)
class Checked:
    """What happened to one root module: its `init`, then `validate -json` (envs) or `test` (modules)."""

    init: Result
    check: Result | None


@pytest.fixture(scope="session")
def checked(workspace: Workspace) -> dict[str, Checked]:
    """Every env validated and every module's `terraform test` run, once per session, two at a time.

    Each root is one `init -backend=false` from the plugin mirror, then its check. Envs init with
    `-lockfile=readonly`: the committed lock file must already match the provider, so a version bump
    without a lock update fails here instead of silently rewriting the lock. Running the roots two at a
    time halves the wall time: starting the AWS provider (a 675 MB binary, several times per command)
    dominates every command."""
    roots = [f"envs/{env}" for env in ENVS] + [f"modules/{module}" for module in TESTED_MODULES]

    def check(rel: str) -> tuple[str, Checked]:
        directory = workspace.root / rel
        is_env = rel.startswith("envs/")
        init_args = ["init", "-backend=false", f"-plugin-dir={PLUGIN_DIR}", "-no-color"]
        init = workspace.run(directory, *init_args, *(["-lockfile=readonly"] if is_env else []))
        if init.code != 0:
            return rel, Checked(init, None)
        args = ["validate", "-json", "-no-color"] if is_env else ["test", "-no-color"]
        return rel, Checked(init, workspace.run(directory, *args, timeout=300))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(check, roots))


def _check_of(checked: dict[str, Checked], rel: str) -> Result:
    done = checked[rel]
    assert done.init.code == 0, done.init.explain()
    assert done.check is not None
    return done.check


def test_every_area_has_a_module_with_tests() -> None:
    expected = {
        "lake",
        "state",
        "ingestion",
        "glue",
        "ml",
        "network",
        "stack",
        "images",
        "function",
        "transform",
        "flow",
        "monitoring",
        "audit",
    }
    assert expected <= set(TESTED_MODULES), f"modules without tftest files: {expected - set(TESTED_MODULES)}"
    for module in expected:
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (INFRA / "modules" / module / name).is_file(), f"infra/modules/{module}/{name} is missing"
    assert ENVS == ["dev", "prod", "staging"]


@pytest.mark.parametrize("name", ["variables.tf", "versions.tf", "outputs.tf", "backend.tf"])
def test_env_roots_differ_only_in_their_settings(name: str) -> None:
    """Each env is a thin Terraform root over modules/stack; Terraform has no include, so the files every
    root needs are copies. Only main.tf (the env's settings) may differ, and backend.tf only by the env's
    name: a variable added to one env and not the others fails here."""
    any_env = re.compile(rf"\b({'|'.join(ENVS)})\b")
    texts = {env: any_env.sub("<env>", (INFRA / "envs" / env / name).read_text()) for env in ENVS}
    assert len(set(texts.values())) == 1, f"infra/envs/*/{name} differ between {sorted(texts)}"


def test_terraform_files_are_formatted(workspace: Workspace) -> None:
    result = workspace.run(REPO, "fmt", "-check", "-recursive", "-diff", "-no-color", "infra")
    assert result.code == 0, "run `terraform fmt -recursive infra`\n" + result.explain()


@pytest.mark.parametrize("env", ENVS)
def test_env_validates_without_warnings(checked: dict[str, Checked], env: str) -> None:
    result = _check_of(checked, f"envs/{env}")
    report = json.loads(result.output[result.output.index("{") :])
    problems = [f"{d['severity']}: {d['summary']}: {d.get('detail', '')}" for d in report["diagnostics"]]
    assert report["valid"] and not problems, "\n".join(problems) or result.explain()


@pytest.mark.parametrize("env", ENVS)
def test_env_pins_the_provider_and_commits_its_lock(env: str) -> None:
    versions = (INFRA / "envs" / env / "versions.tf").read_text()
    assert re.search(rf'version\s*=\s*"= ?{re.escape(PROVIDER_VERSION)}"', versions), versions
    lock = (INFRA / "envs" / env / ".terraform.lock.hcl").read_text()
    assert f'version     = "{PROVIDER_VERSION}"' in lock
    assert re.search(r'"h1:[A-Za-z0-9+/=]{44}"', lock), "the lock file must carry the provider's h1 checksum"


@pytest.mark.parametrize("module", TESTED_MODULES)
def test_module_terraform_test_suite_passes(checked: dict[str, Checked], module: str) -> None:
    result = _check_of(checked, f"modules/{module}")
    assert result.code == 0, result.explain()
    summary = re.search(r"Success! (\d+) passed, 0 failed\.", result.output)
    assert summary and int(summary.group(1)) > 0, result.explain()
    assert not re.search(r"\.\.\. skip$", result.output, re.MULTILINE), result.explain()


def test_nothing_is_written_into_the_repo(checked: dict[str, Checked]) -> None:
    leftovers = [
        p.relative_to(REPO)
        for pattern in (".terraform", "*.tfstate*", "terraform.tfstate.d")
        for p in INFRA.rglob(pattern)
    ]
    module_locks = [p.relative_to(REPO) for p in (INFRA / "modules").rglob(".terraform.lock.hcl")]
    assert not leftovers and not module_locks, f"written into the repo: {leftovers + module_locks}"
