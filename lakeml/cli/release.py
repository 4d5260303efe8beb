"""What `lakeml deploy …` plans and runs: the checkout, the env roots, image digests, terraform steps.

A plan is a list of `Step`s printed before anything runs. Steps that change something outside this
machine (`terraform apply`) are marked `changes`; the command asks (or needs `--yes`) right before the
first of them, so init and `terraform plan` have shown what apply will do by then. Image digests of a
release tag are a git note on the tag's commit, one notes ref per env since each env has its own
registry (`refs/notes/lakeml-images-<env>`, holding that env's `make images` output), written by the
deploy workflow; `--images FILE` gives them explicitly.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from lakeml.core import environ
from lakeml.core.errors import ConfigError, LakemlError

ENVS_DIR = Path("infra/envs")
CONFIG_DIR = Path("config/envs")
IMAGES_NOTES_PREFIX = "lakeml-images-"


def notes_ref(env: str) -> str:
    """The notes ref holding an env's image digests per released commit."""
    return IMAGES_NOTES_PREFIX + env


_DIGEST = re.compile(r"^[\w.-]+(:\d+)?/[\w./-]+@sha256:[0-9a-f]{64}$")
_IMAGES_HELP = (
    "the `make images` output (lines `ml <repo>@sha256:…` and `lambda <repo>@sha256:…`) "
    'or JSON {"ml": …, "lambda": …}'
)


@dataclass
class Step:
    """One thing the plan does: a command (argv, in cwd) or, with `action`, something done in-process."""

    what: str
    argv: list[str] = field(default_factory=list)
    cwd: Path | None = None
    changes: bool = False
    stdout_to: Path | None = None
    variables: Callable[[], dict[str, str]] | None = None
    action: Callable[[], Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "command": shlex.join(self.argv) if self.argv else None,
            "cwd": str(self.cwd) if self.cwd else None,
            "changes": self.changes,
        }


@dataclass(frozen=True)
class Images:
    """Digest-pinned URIs of the two images (the Terraform variables lambda_image_uri, ml_image_uri)."""

    ml: str
    lambda_: str
    source: str

    def variables(self) -> list[str]:
        return ["-var", f"lambda_image_uri={self.lambda_}", "-var", f"ml_image_uri={self.ml}"]

    def to_json(self) -> dict[str, str]:
        return {"ml": self.ml, "lambda": self.lambda_, "source": self.source}


def parse_images(text: str, source: str) -> Images:
    """The two digests from `make images` output or JSON; exit 2 naming what is missing or not pinned."""
    try:
        data = json.loads(text)
    except ValueError:
        data = dict(line.split(None, 1) for line in text.splitlines() if len(line.split(None, 1)) == 2)
    found = (
        {name: str(data.get(name, "")).strip() for name in ("ml", "lambda")} if isinstance(data, dict) else {}
    )
    missing = [name for name in ("ml", "lambda") if not found.get(name)]
    if missing:
        raise ConfigError(
            f"image digests missing in {source}: no {' or '.join(missing)} image; give {_IMAGES_HELP}"
        )
    loose = [uri for uri in found.values() if not _DIGEST.match(uri)]
    if loose:
        raise ConfigError(
            f"{source}: {', '.join(loose)} is not pinned by digest (<repo>@sha256:<64 hex>); "
            "deploy what `make images` printed, never a movable tag"
        )
    return Images(found["ml"], found["lambda"], source)


def read_images(path: Path) -> Images:
    if not path.is_file():
        raise ConfigError(f"--images {path} does not exist; give {_IMAGES_HELP}")
    return parse_images(path.read_text(), str(path))


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def repo_root() -> Path:
    """The lakeml checkout this runs in (the current directory's git work tree with infra/envs)."""
    found = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
    )
    root = Path(found.stdout.strip()) if found.returncode == 0 else None
    if root is None or not (root / ENVS_DIR).is_dir():
        raise ConfigError(
            f"run this inside the lakeml checkout (a git work tree with {ENVS_DIR}/); cd there and rerun"
        )
    return root


def envs(root: Path) -> list[str]:
    return sorted(p.name for p in (root / ENVS_DIR).iterdir() if (p / "main.tf").is_file())


def env_dir(root: Path, env: str) -> Path:
    known = envs(root)
    if env not in known:
        raise ConfigError(f"unknown env '{env}': use one of {', '.join(known)} (the folders of {ENVS_DIR})")
    return root / ENVS_DIR / env


def terraform() -> str:
    found = shutil.which("terraform")
    if found is None:
        raise ConfigError(
            "terraform is not on PATH: install Terraform >= 1.11 "
            "(https://developer.hashicorp.com/terraform/install), or use --dry-run to only print the plan"
        )
    return found


def tag_commit(root: Path, tag: str) -> str:
    found = git(root, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
    if found.returncode != 0:
        recent = git(root, "tag", "--sort=-creatordate").stdout.split()[:5]
        known = f"recent tags: {', '.join(recent)}" if recent else "this clone has no tags"
        raise ConfigError(f"tag '{tag}' does not exist here ({known}); `git fetch --tags` and retry")
    return found.stdout.strip()


def tag_images(root: Path, env: str, tag: str, commit: str) -> Images:
    """The digests recorded for a release tag in an env (the git note the deploy workflow adds)."""
    ref = notes_ref(env)
    note = git(root, "notes", f"--ref={ref}", "show", commit)
    if note.returncode != 0 or not note.stdout.strip():
        raise ConfigError(
            f"no {env} image digests recorded for {tag} (git note refs/notes/{ref} on {commit[:12]}); "
            f"fetch them (`git fetch origin refs/notes/{ref}:refs/notes/{ref}`) "
            f"or pass --images FILE with {_IMAGES_HELP} of that release"
        )
    return parse_images(note.stdout, f"the {env} note of {tag}")


def terraform_apply(tf: str, where: Path, images: Images, backend: list[str], label: str) -> list[Step]:
    """init, plan into a file, then apply exactly that plan (the only step that changes AWS)."""
    plan_file = f"{label}.tfplan"
    init = [tf, f"-chdir={where}", "init", "-input=false", *(f"-backend-config={kv}" for kv in backend)]
    return [
        Step(f"terraform init of {where.name} ({label})", init),
        Step(
            "terraform plan: shows every resource change, saved to apply exactly it",
            [tf, f"-chdir={where}", "plan", "-input=false", f"-out={plan_file}", *images.variables()],
        ),
        Step(
            "terraform apply of that saved plan",
            [tf, f"-chdir={where}", "apply", "-input=false", plan_file],
            changes=True,
        ),
    ]


def run_step(step: Step, quiet: bool) -> None:
    """Run one step; its output goes to stderr with --json (stdout stays one JSON document)."""
    if step.action is not None:
        step.action()
        return
    env = environ.child(step.variables()) if step.variables else None
    if step.stdout_to is not None:
        captured = subprocess.run(
            step.argv, cwd=step.cwd, env=env, capture_output=True, text=True, check=False
        )
        sys.stderr.write(captured.stderr)
        if captured.returncode == 0:
            step.stdout_to.write_text(captured.stdout)
        code = captured.returncode
    else:
        code = _stream(step.argv, step.cwd, env, sys.stderr if quiet else sys.stdout)
    if code != 0:
        raise LakemlError(
            f"{step.what} failed (exit {code}): `{shlex.join(step.argv)}`; read its output above, "
            "fix the cause and rerun (the steps before it are done, none after it ran)"
        )


def _stream(argv: list[str], cwd: Path | None, env: dict[str, str] | None, out: TextIO) -> int:
    """Run a command, passing its output on line by line (terraform applies are long)."""
    with subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        for line in proc.stdout or ():
            out.write(line)
            out.flush()
    return proc.returncode


def lakeml_env(tf: str, where: Path) -> dict[str, str]:
    """The `lakeml_env` of an applied env root: the LAKEML_* names Terraform created."""
    done = subprocess.run(
        [tf, f"-chdir={where}", "output", "-json", "lakeml"], capture_output=True, text=True, check=False
    )
    try:
        values = json.loads(done.stdout)["lakeml_env"] if done.returncode == 0 else None
    except (ValueError, KeyError, TypeError):
        values = None
    if not isinstance(values, dict):
        raise LakemlError(
            f"`terraform -chdir={where} output -json lakeml` gave no lakeml_env ({done.stderr.strip()[:300]}); "
            f"is the env applied and initialised? (`lakeml deploy env {where.name}`)"
        )
    return {str(k): str(v) for k, v in values.items()}


def copy_untracked_vars(source: Path, target: Path) -> list[str]:
    """The env's variable files and pipeline definitions a release's checkout lacks (often not committed)."""
    copied = []
    for path in sorted(source.iterdir()):
        wanted = path.is_file() and path.name.endswith((".tfvars", ".tfvars.json", ".json"))
        if wanted and not (target / path.name).exists():
            shutil.copy2(path, target / path.name)
            copied.append(path.name)
    return copied
