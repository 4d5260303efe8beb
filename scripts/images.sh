#!/usr/bin/env bash
# `make images`: build lakeml's two images (the Dockerfile's targets `ml` and `lambda`) and push them to
# ECR, tagged with the commit they are built from. The repositories (infra/modules/images) refuse to
# overwrite a tag, so a tag names one image forever: that is why a dirty tree is refused (the image would
# not be that commit) and why a tag already in the registry is reported, not pushed again.
#
#   ECR_REGISTRY=<account>.dkr.ecr.<region>.amazonaws.com [IMAGE_REPOSITORY_PREFIX=lakeml-dev] make images
#
# Prints each image's digest (repository@sha256:…): set aws.image_uri / the Terraform image variables to
# those. DOCKER names the docker client (tests point it elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
PREFIX=${IMAGE_REPOSITORY_PREFIX:-lakeml-dev}
fail() {
  echo "make images: $*" >&2
  exit 2
}

command -v "$DOCKER" >/dev/null 2>&1 ||
  fail "docker is not installed here ('$DOCKER' not found on PATH). Build the images where docker runs (a laptop with Docker, CI), from a clean checkout of the commit to deploy: ECR_REGISTRY=<account>.dkr.ecr.<region>.amazonaws.com make images"
"$DOCKER" info >/dev/null 2>&1 ||
  fail "docker is installed but cannot reach a Docker daemon ('$DOCKER info' fails): start the daemon (or Docker Desktop), or build where one runs"
[ -n "${ECR_REGISTRY:-}" ] ||
  fail "ECR_REGISTRY is not set: the registry host, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com (the repositories are \$IMAGE_REPOSITORY_PREFIX-ml and -lambda, see \`terraform output\`); log in first with: aws ecr get-login-password | docker login --username AWS --password-stdin \$ECR_REGISTRY"
dirty=$(git status --porcelain)
[ -z "$dirty" ] ||
  fail "the work tree has uncommitted changes, so an image tagged $(git rev-parse --short HEAD) would not be that commit; commit them (or build from a clean clone):
$dirty"

sha=$(git rev-parse HEAD)
for target in ml lambda; do
  image="$ECR_REGISTRY/$PREFIX-$target:$sha"
  if "$DOCKER" manifest inspect "$image" >/dev/null 2>&1; then
    echo "$target: $image is already in the registry (tags are immutable); not pushed again" >&2
    "$DOCKER" pull --quiet "$image" >/dev/null
  else
    "$DOCKER" build --target "$target" --build-arg "GIT_SHA=$sha" --tag "$image" .
    "$DOCKER" push "$image"
  fi
  echo "$target $("$DOCKER" inspect --format '{{index .RepoDigests 0}}' "$image")"
done
