# syntax=docker/dockerfile:1.7
# lakeml's two images, one Dockerfile; both install exactly the versions of the committed lock (uv.lock).
#
#   --target ml      SageMaker processing jobs: ContainerEntrypoint ["python", "-m", "lakeml.jobs.<step>"]
#                    SageMaker training jobs:   `docker run <image> train` -> python -m lakeml.jobs.train
#                    SageMaker inference:       `docker run <image> serve` -> python -m ml_pipelines.serving.server
#                    the dbt ECS task:          `lakeml transform --json` (LAKEML_TRANSFORM__TARGET=glue)
#   --target lambda  every Lambda function; Terraform picks the handler with image_config.command
#                    (default: lakeml.handlers.ingest.handler)
#
#   docker build --target ml --build-arg GIT_SHA=$(git rev-parse HEAD) -t lakeml:$(git rev-parse HEAD) .
#   `make images` builds and pushes both with immutable tags (the commit) and prints their digests.
# tests/test_entrypoints.py checks that every command and handler named here, in the pipeline definition
# and in Terraform exists and imports (docker itself is not on the development machines).
#
# No Java and no pyspark in the ml image: on AWS dbt runs on the glue target, where Spark runs inside the
# Glue interactive session and this container only runs dbt-core + dbt-glue (API calls). Local Spark is
# the laptop's target; asked for here, `lakeml transform` says that Java is missing.
# --no-default-groups: pyproject's default groups include `bench` (dlt, …), which --no-dev alone keeps.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13

FROM ${UV_IMAGE} AS uv

# ---------------------------------------------------------------------------------------------- ml ----
FROM ${PYTHON_IMAGE} AS ml-build
COPY --from=uv /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PYTHON=python3.11
WORKDIR /app
# Dependencies first (cached while only the code changes).
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --extra ml --extra serve --extra transform --no-dev --no-default-groups \
        --no-install-package pyspark --no-install-project
COPY lakeml ./lakeml
COPY ingestion ./ingestion
COPY ml_pipelines ./ml_pipelines
# dbt's project and profiles (lakeml.transform.project finds them next to the packages); the gold column
# docs are also the one schema source of the feature list (ml_pipelines/features.py).
COPY dbt_project ./dbt_project
COPY profiles ./profiles
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --extra ml --extra serve --extra transform --no-dev --no-default-groups \
        --no-install-package pyspark

FROM ${PYTHON_IMAGE} AS ml
# xgboost's OpenMP runtime.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 1000 --user-group --home-dir /tmp/lakeml --no-create-home lakeml
ARG GIT_SHA=unknown
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LAKEML_CONTAINER__GIT_SHA=${GIT_SHA} \
    LAKEML_ENV=aws \
    LAKEML_HOME=/tmp/lakeml
COPY --from=ml-build /app /app
WORKDIR /app
# SageMaker starts training images as `train` and inference images as `serve`.
RUN printf '#!/bin/sh\nexec python -m lakeml.jobs.train "$@"\n' > /usr/local/bin/train \
    && printf '#!/bin/sh\nexec python -m ml_pipelines.serving.server "$@"\n' > /usr/local/bin/serve \
    && chmod 755 /usr/local/bin/train /usr/local/bin/serve \
    && python -c "import lakeml.jobs.train, lakeml.cli.main, ml_pipelines.serving.server, xgboost, sagemaker.core, dbt.adapters.glue" \
    && lakeml --help > /dev/null
# Root stays the default user: SageMaker mounts /opt/ml/* owned by root and jobs write their outputs
# there. The ECS task (dbt) runs as the unprivileged `lakeml` user (uid 1000; its task definition sets
# `user`), whose LAKEML_HOME is under /tmp.
EXPOSE 8080

# ------------------------------------------------------------------------------------------ lambda ----
# Not FROM public.ecr.aws/lambda/python:3.11: that base is Amazon Linux 2 (glibc 2.26), and the lock's
# numpy, pyarrow and scipy wheels need glibc 2.28 (manylinux_2_28), so their imports would fail there.
# The same Debian slim image as `ml` with AWS's runtime interface client (awslambdaric, the `lambda`
# extra) is what AWS documents for images on other bases.
FROM ${PYTHON_IMAGE} AS lambda-build
COPY --from=uv /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PYTHON=python3.11
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --extra ingestion --extra lambda --no-dev --no-default-groups --no-install-project
COPY lakeml ./lakeml
COPY ingestion ./ingestion
COPY ml_pipelines ./ml_pipelines
COPY dbt_project/models/gold/_gold.yml ./dbt_project/models/gold/_gold.yml
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --extra ingestion --extra lambda --no-dev --no-default-groups

FROM ${PYTHON_IMAGE} AS lambda
ARG GIT_SHA=unknown
# Lambda's file system is read-only except /tmp: LAKEML_HOME goes there.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LAKEML_CONTAINER__GIT_SHA=${GIT_SHA} \
    LAKEML_ENV=aws \
    LAKEML_HOME=/tmp/lakeml
COPY --from=lambda-build /app /app
WORKDIR /app
RUN python -c "import awslambdaric, lakeml.handlers.ingest, lakeml.handlers.quality, lakeml.handlers.notify, lakeml.handlers.on_approval, lakeml.handlers.deploy_staging" \
    && useradd --uid 1000 --user-group --home-dir /tmp/lakeml --no-create-home lakeml
USER 1000
ENTRYPOINT ["python", "-m", "awslambdaric"]
CMD ["lakeml.handlers.ingest.handler"]
