"""`make images` (scripts/images.sh) with a stand-in docker client: what it refuses, what it builds and
pushes, and that it prints the digests. (No docker daemon on the development machines; the real build
is `docker build` of the Dockerfile, whose commands tests/test_entrypoints.py checks.)"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
FAKE_DOCKER = r"""#!/usr/bin/env bash
echo "$*" >> "$DOCKER_LOG"
case "$1" in
  info) [ -z "${FAKE_NO_DAEMON:-}" ] ;;
  manifest) [ -n "${FAKE_EXISTS:-}" ] ;;
  inspect) image="${@: -1}"; echo "${image%:*}@sha256:$(printf '%064d' 7)" ;;
esac
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A clean git checkout holding the script (it builds from the checkout it lives in)."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "images.sh", root / "scripts" / "images.sh")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "."], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "init"], check=True)
    return root


@pytest.fixture
def docker(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "docker"
    path.parent.mkdir()
    path.write_text(FAKE_DOCKER)
    path.chmod(0o755)
    return path


def images(checkout: Path, docker: Path | str, **env: str) -> subprocess.CompletedProcess[str]:
    log = checkout.parent / "docker.log"
    return subprocess.run(
        [str(checkout / "scripts" / "images.sh")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DOCKER": str(docker), "DOCKER_LOG": str(log), **env},
    )


def calls(checkout: Path) -> list[str]:
    log = checkout.parent / "docker.log"
    return log.read_text().splitlines() if log.exists() else []


def sha(checkout: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_make_target_runs_the_script() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "\nimages: ## " in makefile and "\t@scripts/images.sh\n" in makefile


def test_without_docker_it_says_where_to_build(checkout: Path) -> None:
    proc = images(checkout, "/nonexistent/docker", ECR_REGISTRY=REGISTRY)
    assert proc.returncode == 2
    assert "docker is not installed here" in proc.stderr and "ECR_REGISTRY=" in proc.stderr


def test_without_a_daemon_or_a_registry_it_says_which(checkout: Path, docker: Path) -> None:
    no_daemon = images(checkout, docker, ECR_REGISTRY=REGISTRY, FAKE_NO_DAEMON="1")
    assert no_daemon.returncode == 2 and "cannot reach a Docker daemon" in no_daemon.stderr
    env = {k: v for k, v in os.environ.items() if k != "ECR_REGISTRY"}
    no_registry = subprocess.run(
        [str(checkout / "scripts" / "images.sh")],
        capture_output=True,
        text=True,
        env={**env, "DOCKER": str(docker), "DOCKER_LOG": str(checkout.parent / "docker.log")},
    )
    assert no_registry.returncode == 2 and "ECR_REGISTRY is not set" in no_registry.stderr


def test_a_dirty_tree_is_refused(checkout: Path, docker: Path) -> None:
    (checkout / "new.py").write_text("x = 1\n")
    proc = images(checkout, docker, ECR_REGISTRY=REGISTRY)
    assert proc.returncode == 2 and "uncommitted changes" in proc.stderr and "new.py" in proc.stderr
    assert not [c for c in calls(checkout) if c.startswith(("build", "push"))]


def test_both_targets_are_built_tagged_with_the_commit_pushed_and_their_digests_printed(
    checkout: Path, docker: Path
) -> None:
    commit = sha(checkout)
    proc = images(checkout, docker, ECR_REGISTRY=REGISTRY, IMAGE_REPOSITORY_PREFIX="lakeml-prod")
    assert proc.returncode == 0, proc.stderr
    builds = [c for c in calls(checkout) if c.startswith(("build", "push"))]
    assert builds == [
        f"build --target ml --build-arg GIT_SHA={commit} --tag {REGISTRY}/lakeml-prod-ml:{commit} .",
        f"push {REGISTRY}/lakeml-prod-ml:{commit}",
        f"build --target lambda --build-arg GIT_SHA={commit} --tag {REGISTRY}/lakeml-prod-lambda:{commit} .",
        f"push {REGISTRY}/lakeml-prod-lambda:{commit}",
    ]
    digest = "sha256:" + "7".zfill(64)
    assert proc.stdout.splitlines() == [
        f"ml {REGISTRY}/lakeml-prod-ml@{digest}",
        f"lambda {REGISTRY}/lakeml-prod-lambda@{digest}",
    ]


def test_a_tag_already_in_the_registry_is_not_pushed_again(checkout: Path, docker: Path) -> None:
    proc = images(checkout, docker, ECR_REGISTRY=REGISTRY, FAKE_EXISTS="1")
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in calls(checkout) if c.startswith(("build", "push"))]
    assert "already in the registry" in proc.stderr and len(proc.stdout.splitlines()) == 2
