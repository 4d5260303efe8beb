"""Every entry point something outside Python names exists and imports — the check `docker build` would
make, on machines without docker.

Who names entry points: the Dockerfile (the `train`/`serve` shims, the Lambda CMD and ENTRYPOINT, the
imports its build runs), the SageMaker pipeline definitions (`python -m lakeml.jobs.*` processing
commands, the DeployStaging Lambda step's function), Terraform (Lambda `image_config.command` handlers,
the dbt ECS task's `lakeml …` command, found by scanning infra/ for the shapes, not by file) and
pyproject's `[project.scripts]`. Each reference is checked for what it promises: a `module.attr` imports
and has the attribute, `python -m module` answers `--help`, a `lakeml …` command exists in the CLI.

Then each image's entry points are imported with only that image's packages importable (the closure of
its extras in uv.lock; the ml image without pyspark, as the Dockerfile installs it), so an entry point
that needs a package its image lacks fails here rather than on AWS.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
INFRA = REPO / "infra"
PROJECT_PACKAGES = ("lakeml", "ingestion", "ml_pipelines")
DOTTED = re.compile(r"^(?:lakeml|ingestion|ml_pipelines)(?:\.[A-Za-z_]\w*)+$")
# What each image installs: extras of the lock (Dockerfile's `uv sync --extra …`) minus skipped packages.
IMAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ml": (("ml", "serve", "transform"), ("pyspark",)),
    "lambda": (("ingestion", "lambda"), ()),
}


# --- who names what ---------------------------------------------------------------------------------------
def dockerfile_stage(target: str) -> str:
    """The text of one `FROM … AS <target>` stage of the Dockerfile."""
    text = DOCKERFILE.read_text()
    match = re.search(rf"^FROM \S+ AS {target}\n(.*?)(?=^FROM |\Z)", text, re.M | re.S)
    assert match, f"the Dockerfile has no stage {target!r}"
    return match.group(1)


def dockerfile_shims() -> dict[str, str]:
    """The ml image's commands SageMaker runs (`train`, `serve`) -> the module each execs."""
    shims = re.findall(r"exec python -m ([\w.]+) \"\$@\"\\n' > /usr/local/bin/(\w+)", dockerfile_stage("ml"))
    return {command: module for module, command in shims}


def exec_form(stage: str, instruction: str) -> list[str]:
    match = re.search(rf"^{instruction} (\[.*\])$", dockerfile_stage(stage), re.M)
    assert match, f"the {stage} stage has no exec-form {instruction}"
    return list(json.loads(match.group(1)))


def build_imports(stage: str) -> set[str]:
    """Modules the stage's build imports (`python -c "import a, b"`) to fail the build early."""
    found: set[str] = set()
    for line in re.findall(r'python -c "import ([^"]+)"', dockerfile_stage(stage)):
        found |= {name.strip() for name in line.split(",")}
    return found


@cache
def pipeline_definitions() -> tuple[dict[str, Any], dict[str, Any]]:
    from ml_pipelines.pipeline import Target, definition

    return definition(Target()), definition(Target(), batch=True)


def pipeline_steps() -> list[dict[str, Any]]:
    def walk(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        for step in steps:
            found.append(step)
            arguments = step.get("Arguments", {})
            found += walk(arguments.get("IfSteps", []) + arguments.get("ElseSteps", []))
        return found

    return [step for document in pipeline_definitions() for step in walk(document["Steps"])]


def pipeline_modules() -> set[str]:
    """The `python -m <module>` of every processing step."""
    modules = set()
    for step in pipeline_steps():
        entry = step.get("Arguments", {}).get("AppSpecification", {}).get("ContainerEntrypoint")
        if entry:
            assert entry[:2] == ["python", "-m"], entry
            modules.add(entry[2])
    return modules


def terraform_files() -> list[Path]:
    return sorted(
        p
        for pattern in ("*.tf", "*.tftest.hcl", "*.json")
        for p in INFRA.rglob(pattern)
        if ".terraform" not in p.parts
    )


def terraform_strings() -> set[str]:
    """Every double-quoted string in infra/ (Terraform, its tests, the rendered state machine)."""
    found: set[str] = set()
    for path in terraform_files():
        found |= set(re.findall(r'"((?:[^"\\]|\\.)*)"', path.read_text()))
    return found


def terraform_handlers() -> set[str]:
    """Dotted Python paths named in infra/: Lambda handlers (`image_config.command`) and the like."""
    return {s for s in terraform_strings() if DOTTED.match(s)}


def terraform_cli_commands() -> set[tuple[str, ...]]:
    """Commands in infra/ written as lists starting with "lakeml" (the dbt ECS task, overrides)."""
    commands = set()
    for path in terraform_files():
        for body in re.findall(r'\[\s*"lakeml"\s*,([^\]]*)\]', path.read_text()):
            commands.add(tuple(re.findall(r'"([^"]*)"', body)))
    return commands


def project_scripts() -> dict[str, str]:
    return dict(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"])


# --- what each reference must satisfy ---------------------------------------------------------------------
def resolve(path: str) -> Any:
    """`module.attr` or `module:attr` -> the object (AssertionError naming what is missing)."""
    module, _, attr = path.replace(":", ".").rpartition(".")
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        raise AssertionError(f"{path}: module {module} does not import: {exc}") from exc
    assert hasattr(loaded, attr), f"{path}: {module} has no attribute {attr}"
    return getattr(loaded, attr)


def answers_help(module: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert proc.returncode == 0 and "usage" in proc.stdout.lower(), f"python -m {module}: {proc.stderr}"


def cli_command_exists(words: tuple[str, ...]) -> None:
    """`lakeml [root flags] <command…> [options]`: the root flags exist, `lakeml <command…> --help`
    succeeds, and the command has the options named after it."""
    from typer.testing import CliRunner

    from lakeml.cli.main import app

    start = next((i for i, w in enumerate(words) if not w.startswith("-")), len(words))
    end = next((i for i, w in enumerate(words) if i > start and w.startswith("-")), len(words))
    root, command, options = words[:start], list(words[start:end]), words[end:]
    root_help = CliRunner().invoke(app, ["--help"]).output
    assert all(flag in root_help for flag in root), f"lakeml has no root option among {root}"
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, f"lakeml {' '.join(command)}: {result.output}"
    for option in (w.split("=")[0] for w in options if w.startswith("--")):
        assert option in result.output, f"lakeml {' '.join(command)} has no option {option}"


# --- tests ------------------------------------------------------------------------------------------------
def test_the_dockerfile_builds_both_images_from_the_lock_only() -> None:
    ml, lam = dockerfile_stage("ml-build"), dockerfile_stage("lambda-build")
    sync_ml = "uv sync --frozen --extra ml --extra serve --extra transform --no-dev --no-default-groups"
    sync_lambda = "uv sync --frozen --extra ingestion --extra lambda --no-dev --no-default-groups"
    assert ml.count(sync_ml) == 2 and "--no-install-package pyspark" in ml
    assert lam.count(sync_lambda) == 2
    for stage in (ml, lam):
        assert "COPY pyproject.toml uv.lock" in stage
        assert "pip install" not in stage  # nothing outside the lock
    for stage in ("ml", "lambda"):
        assert "LAKEML_CONTAINER__GIT_SHA=${GIT_SHA}" in dockerfile_stage(stage)
        assert "LAKEML_ENV=aws" in dockerfile_stage(stage)
    assert {"ml", "serve", "transform", "ingestion", "lambda"} <= set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    assert IMAGES["ml"][0] == ("ml", "serve", "transform") and IMAGES["lambda"][0] == ("ingestion", "lambda")


def test_the_dockerfile_commands_exist() -> None:
    shims = dockerfile_shims()
    assert set(shims) == {"train", "serve"}
    for module in shims.values():
        answers_help(module)
    assert exec_form("lambda", "ENTRYPOINT") == ["python", "-m", "awslambdaric"]
    handler = exec_form("lambda", "CMD")
    assert handler == ["lakeml.handlers.ingest.handler"]
    assert callable(resolve(handler[0]))
    for module in build_imports("ml") | build_imports("lambda"):
        importlib.import_module(module)


def test_every_command_the_pipeline_definitions_name_exists() -> None:
    modules = pipeline_modules()
    assert modules == {
        "lakeml.jobs.ingest_features",
        "lakeml.jobs.prepare",
        "lakeml.jobs.evaluate",
        "lakeml.jobs.batch_inputs",
    }
    for module in sorted(modules):
        answers_help(module)
    # Training jobs name no entrypoint: SageMaker runs the image's `train`, which the Dockerfile provides.
    trainings = [s for s in pipeline_steps() if s["Type"] == "Tuning"]
    assert trainings and all(
        "ContainerEntrypoint" not in s["Arguments"]["TrainingJobDefinition"]["AlgorithmSpecification"]
        for s in trainings
    )
    assert "train" in dockerfile_shims()


def test_the_pipelines_lambda_step_has_a_handler_terraform_deploys() -> None:
    """DeployStaging names a function; its handler is `lakeml.handlers.<function, minus lakeml->`, which
    must exist, and Terraform must deploy a function with it."""
    lambdas = [s for s in pipeline_steps() if s["Type"] == "Lambda"]
    assert [s["Name"] for s in lambdas] == ["DeployStaging"]
    function = lambdas[0]["FunctionArn"].rsplit(":", 1)[1]
    handler = f"lakeml.handlers.{function.removeprefix('lakeml-').replace('-', '_')}.handler"
    assert callable(resolve(handler))
    assert handler in terraform_handlers(), (
        f"no Terraform function runs {handler} (the step calls {function})"
    )


def test_every_handler_and_command_terraform_names_exists() -> None:
    handlers = terraform_handlers()
    assert "lakeml.handlers.ingest.handler" in handlers, "the scan found no Lambda handler in infra/"
    for path in sorted(handlers):
        assert callable(resolve(path)), path
    commands = terraform_cli_commands()
    assert ("transform", "--json") in commands, "the scan found no dbt task command in infra/"
    for words in sorted(commands):
        cli_command_exists(words)


def test_the_project_scripts_exist() -> None:
    scripts = project_scripts()
    assert scripts == {"lakeml": "lakeml.cli.main:app"}
    for target in scripts.values():
        assert callable(resolve(target))


# --- each image's entry points import with only that image's packages --------------------------------------
def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def image_distributions(image: str) -> set[str]:
    """Distributions installed in `image`: the closure of the project's core and the image's extras in
    uv.lock (markers ignored: a superset), minus what the Dockerfile skips."""
    extras, skipped = IMAGES[image]
    packages = {p["name"]: p for p in tomllib.loads((REPO / "uv.lock").read_text())["package"]}
    project = packages["lakeml"]
    todo = list(project["dependencies"]) + [d for e in extras for d in project["optional-dependencies"][e]]
    found: set[str] = set()
    while todo:
        dep = todo.pop()
        name = dep["name"]
        if name in skipped:
            continue
        package = packages[name]
        for extra in dep.get("extra", []):
            todo += package.get("optional-dependencies", {}).get(extra, [])
        if name not in found:
            found.add(name)
            todo += package.get("dependencies", [])
    return found


def image_entry_points(image: str) -> set[str]:
    if image == "lambda":
        return {h.rpartition(".")[0] for h in terraform_handlers() if h.startswith("lakeml.handlers.")} | {
            exec_form("lambda", "CMD")[0].rpartition(".")[0],
            *build_imports("lambda"),
        }
    return (
        pipeline_modules()
        | set(dockerfile_shims().values())
        | build_imports("ml")
        | {project_scripts()["lakeml"].split(":")[0], "lakeml.transform.runner", "dbt.cli.main"}
    )


GUARD = """
import importlib, importlib.abc, importlib.metadata, json, re, sys
allowed, project, modules = json.loads(sys.argv[1])
owners = importlib.metadata.packages_distributions()
def norm(name): return re.sub(r"[-_.]+", "-", name).lower()
class ImageOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top in project or top not in owners:
            return None
        if not {norm(d) for d in owners[top]} & set(allowed):
            raise ImportError(f"{top} ({', '.join(owners[top])}) is not in this image")
        return None
sys.meta_path.insert(0, ImageOnly())
for module in modules:
    importlib.import_module(module)
"""


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_images_entry_points_import_with_only_its_packages(image: str) -> None:
    allowed = sorted(_normal(n) for n in image_distributions(image))
    modules = sorted(image_entry_points(image))
    assert modules
    proc = subprocess.run(
        [sys.executable, "-c", GUARD, json.dumps([allowed, list(PROJECT_PACKAGES), modules])],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, f"{image} image: {proc.stderr[-3000:]}"


def test_the_guard_refuses_a_package_the_image_lacks() -> None:
    """The check above can fail: the Lambda image has no xgboost."""
    allowed = sorted(_normal(n) for n in image_distributions("lambda"))
    assert "xgboost-cpu" not in allowed and "pyspark" not in image_distributions("ml")
    proc = subprocess.run(
        [sys.executable, "-c", GUARD, json.dumps([allowed, list(PROJECT_PACKAGES), ["xgboost"]])],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode != 0 and "xgboost" in proc.stderr and "is not in this image" in proc.stderr
