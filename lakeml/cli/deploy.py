"""`lakeml deploy …`: deploy an env, roll its endpoint back, roll its infrastructure back to a release tag.

Each command prints its plan first (every command it will run, in order), then asks right before the
first step that changes AWS; `--yes` does not ask, `--dry-run` stops after the plan, and under CI
(`CI=true`) or without a terminal nothing is ever asked: without `--yes` the command stops with exit 2.
Terraform does the work (`infra/envs/<env>`, as docs/aws.md describes); the endpoint rollback is
`lakeml models rollback`'s own function. Exit codes: 0 done (or planned), 1 a step failed or not
confirmed, 2 bad usage (unknown env or tag, no terraform, digests missing or not pinned).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import typer

from lakeml.cli import release
from lakeml.cli.output import JSON_OPTION, emit, err_console, handles_errors, out_console, want_json
from lakeml.cli.release import Images, Step
from lakeml.core import environ
from lakeml.core.errors import LakemlError, UsageError

app = typer.Typer(no_args_is_help=True)

ENV_ARGUMENT = typer.Argument(..., help="Environment: a folder of infra/envs (dev, staging, prod).")
YES_OPTION = typer.Option(
    False, "--yes", "-y", help="Do it without asking (needed in CI, where nothing is asked)."
)
DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Print the plan and stop; nothing runs.")
BACKEND_OPTION = typer.Option(
    [], "--backend-config", help="KEY=VALUE for terraform init's S3 backend (bucket=…, region=…); repeatable."
)


def _ci() -> bool:
    return (environ.platform("CI") or "").lower() in ("true", "1", "yes")


def _can_ask(yes: bool) -> None:
    """Never ask in CI or without a terminal: there, without --yes, stop before running anything."""
    if not yes and (_ci() or not sys.stdin.isatty()):
        why = "CI=true" if _ci() else "no terminal to ask on"
        raise UsageError(
            f"nothing is asked here ({why}): rerun with --yes to do the plan above, or --dry-run"
        )


def _confirm(yes: bool, question: str) -> None:
    """Ask once, right before the first step that changes AWS."""
    if not yes and not typer.confirm(question, default=False, err=True):
        raise LakemlError("not confirmed: nothing that changes AWS was done")


def _execute(
    title: str, steps: list[Step], document: dict[str, Any], yes: bool, dry_run: bool, as_json: bool
) -> None:
    quiet = want_json(as_json)
    document = {**document, "plan": [s.to_json() for s in steps], "dry_run": dry_run, "done": False}
    err_console.print(f"[bold]{title}[/]", highlight=False)
    for number, step in enumerate(steps, start=1):
        mark = " [yellow](changes AWS)[/]" if step.changes else ""
        err_console.print(f"  {number}. {step.what}{mark}", highlight=False, soft_wrap=True)
        if step.argv:
            err_console.print(
                f"     $ {step.to_json()['command']}", highlight=False, soft_wrap=True, markup=False
            )
    if not dry_run:
        _can_ask(yes)
        asked = False
        for step in steps:
            if step.changes and not asked:
                _confirm(yes, f"{step.what}: go ahead?")
                asked = True
            release.run_step(step, quiet)
        document["done"] = True
    emit(
        document,
        as_json,
        lambda doc: out_console.print(
            f"{title}: {'planned only (--dry-run)' if doc['dry_run'] else 'done'}", highlight=False
        ),
    )


def _images(images: Path | None) -> Images:
    if images is None:
        raise UsageError(
            "image digests missing: pass --images FILE (what `make images` printed for this commit)"
        )
    return release.read_images(images)


@app.command("env")
@handles_errors
def deploy_env(
    env: str = ENV_ARGUMENT,
    images: Path | None = typer.Option(
        None, "--images", help="Image digests: `make images` output or JSON {ml, lambda} (required)."
    ),
    pipelines: bool = typer.Option(
        False, "--pipelines", help="Then the second apply: render both pipeline definitions and apply them."
    ),
    backend_config: list[str] = BACKEND_OPTION,
    yes: bool = YES_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """terraform init/plan/apply of infra/envs/<env> with the image digests (docs/aws.md steps 3 and 5)."""
    root = release.repo_root()
    where = release.env_dir(root, env)
    pinned = _images(images)
    tf = "terraform" if dry_run else release.terraform()
    steps = release.terraform_apply(tf, where, pinned, backend_config, env)
    if pipelines:
        steps += _pipeline_steps(tf, root, where, pinned, env)
    document = {"action": "deploy", "env": env, "images": pinned.to_json(), "pipelines": pipelines}
    _execute(f"deploy {env}", steps, document, yes, dry_run, as_json)


def _pipeline_steps(tf: str, root: Path, where: Path, images: Images, env: str) -> list[Step]:
    """docs/aws.md step 5: the definitions need the ARNs the first apply created (its lakeml_env)."""
    names: dict[str, str] = {}
    config = root / release.CONFIG_DIR / f"{env}.toml"

    def exported() -> dict[str, str]:
        if not names:
            names.update(release.lakeml_env(tf, where))
        return {**names, **({"LAKEML_CONFIG": str(config)} if config.is_file() else {})}

    lakeml = [sys.executable, "-m", "lakeml.cli.main", "pipeline", "definition"]
    files = '{training="training.json", scoring="scoring.json"}'
    return [
        Step("read the env's names: terraform output -json lakeml (lakeml_env)", action=exported, cwd=where),
        Step(
            "render the training pipeline -> training.json",
            lakeml,
            root,
            stdout_to=where / "training.json",
            variables=exported,
        ),
        Step(
            "render the batch-scoring pipeline -> scoring.json",
            [*lakeml, "--batch"],
            root,
            stdout_to=where / "scoring.json",
            variables=exported,
        ),
        Step(
            "terraform apply of the pipelines (keep pipeline_definition_files in the tfvars for later applies)",
            [
                tf,
                f"-chdir={where}",
                "apply",
                "-input=false",
                "-auto-approve",
                *images.variables(),
                "-var",
                f"pipeline_definition_files={files}",
            ],
            changes=True,
        ),
    ]


@app.command("rollback-endpoint")
@handles_errors
def rollback_endpoint(
    env: str | None = typer.Argument(
        None, help="Env whose endpoint (names from its terraform output); omit: the current settings."
    ),
    group: str = typer.Option("lakeml-churn", "--group", "-g", help="Model package group."),
    endpoint: str = typer.Option("lakeml-churn", help="Endpoint to roll back."),
    yes: bool = YES_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Serve the Approved version before the one serving now (`lakeml models rollback`); registry unchanged."""
    names: dict[str, str | None] = {}
    if env is not None:
        root = release.repo_root()
        where = release.env_dir(root, env)
        names.update(release.lakeml_env(release.terraform(), where))
        config = root / release.CONFIG_DIR / f"{env}.toml"
        names["LAKEML_CONFIG"] = str(config) if config.is_file() else None
    with environ.scoped(names):
        from lakeml.core.settings import load_settings
        from lakeml.wiring import adapters
        from ml_pipelines.registry import approved_before
        from ml_pipelines.serving.on_approval import rollback

        ports = adapters(load_settings())
        current = ports.deployer.serving(endpoint)
        if current is None:
            raise UsageError(
                f"nothing is deployed on {endpoint}; approve a version first (`lakeml models approve`)"
            )
        previous = approved_before(ports.registry.list_versions(group), current[1])
        if previous is None:
            raise LakemlError(
                f"{group}/{current[1]} is serving and no earlier version is Approved; nothing to roll back to"
            )
        result: dict[str, Any] = {}
        step = Step(
            f"{endpoint}: serve {group}/{previous.version} instead of {current[0]}/{current[1]} "
            "(lakeml models rollback; the registry is unchanged)",
            changes=True,
            action=lambda: result.update(rollback(ports.registry, ports.deployer, group, endpoint)),
        )
        document = {
            "action": "rollback-endpoint",
            "env": env,
            "endpoint": endpoint,
            "from": f"{current[0]}/{current[1]}",
            "to": f"{group}/{previous.version}",
        }
        _execute(f"roll back {endpoint}", [step], {**document, "result": result}, yes, dry_run, as_json)


@app.command("rollback-infra")
@handles_errors
def rollback_infra(
    env: str = ENV_ARGUMENT,
    tag: str = typer.Option(..., "--tag", help="Release tag whose infra/ to apply (e.g. v1.4.0)."),
    images: Path | None = typer.Option(
        None,
        "--images",
        help="That release's image digests; default: its git note (refs/notes/lakeml-images-<env>).",
    ),
    backend_config: list[str] = BACKEND_OPTION,
    yes: bool = YES_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Apply infra/envs/<env> as it was at a release tag, from a temporary worktree, with that tag's images."""
    root = release.repo_root()
    current = release.env_dir(root, env)
    commit = release.tag_commit(root, tag)
    pinned = release.read_images(images) if images else release.tag_images(root, env, tag, commit)
    tf = "terraform" if dry_run else release.terraform()
    tree = Path(tempfile.gettempdir()) / f"lakeml-rollback-{env}-{tag.replace('/', '-')}-{commit[:12]}"
    where = tree / release.ENVS_DIR / env
    copied: list[str] = []
    steps = [
        Step(
            f"check out {tag} ({commit[:12]}) in a temporary worktree",
            ["git", "worktree", "add", "--force", "--detach", str(tree), commit],
            root,
        ),
        Step(
            f"copy {current.relative_to(root)}'s untracked *.tfvars / *.json the tag lacks",
            action=lambda: copied.extend(release.copy_untracked_vars(current, where)),
        ),
        *release.terraform_apply(tf, where, pinned, backend_config, env),
    ]
    document = {
        "action": "rollback-infra",
        "env": env,
        "tag": tag,
        "commit": commit,
        "images": pinned.to_json(),
        "worktree": str(tree),
        "copied": copied,
    }
    if not dry_run and tree.exists():  # left by an interrupted run: start from a clean checkout
        release.git(root, "worktree", "remove", "--force", str(tree))
    try:
        _execute(f"roll {env} back to {tag}", steps, document, yes, dry_run, as_json)
    finally:
        if not dry_run and tree.exists():
            release.git(root, "worktree", "remove", "--force", str(tree))
