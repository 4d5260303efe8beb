# The one lakeml ML image: SageMaker processing, training and inference all run this.
#   processing: ContainerEntrypoint ["python", "-m", "lakeml.jobs.<name>"]
#   training:   SageMaker runs `docker run <image> train`  -> python -m lakeml.jobs.train
#   inference:  SageMaker runs `docker run <image> serve`  -> python -m ml_pipelines.serving.server
# Built from the lock file only (uv sync --frozen), so the image has exactly the tested versions.
# --no-default-groups: pyproject's default groups include `bench` (dlt, …), which --no-dev alone keeps.
#   docker build --build-arg GIT_SHA=$(git rev-parse HEAD) -t lakeml:$(git rev-parse --short HEAD) .
# tests/ml_pipelines/test_pipeline.py checks every command named here and in the pipeline definition exists.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PYTHON=python3.11
WORKDIR /app
# Dependencies first (cached while only the code changes).
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --extra ml --extra serve --no-dev --no-default-groups --no-install-project
COPY lakeml ./lakeml
COPY ingestion ./ingestion
COPY ml_pipelines ./ml_pipelines
# The one schema source of the feature list (ml_pipelines/features.py reads it from the repo layout).
COPY dbt_project/models/gold/_gold.yml ./dbt_project/models/gold/_gold.yml
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --extra ml --extra serve --no-dev --no-default-groups

FROM ${PYTHON_IMAGE}
# xgboost's OpenMP runtime.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*
ARG GIT_SHA=unknown
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LAKEML_CONTAINER__GIT_SHA=${GIT_SHA} \
    LAKEML_ENV=aws \
    LAKEML_HOME=/tmp/lakeml
COPY --from=build /app /app
WORKDIR /app
# SageMaker starts training images as `train` and inference images as `serve`.
RUN printf '#!/bin/sh\nexec python -m lakeml.jobs.train "$@"\n' > /usr/local/bin/train \
    && printf '#!/bin/sh\nexec python -m ml_pipelines.serving.server "$@"\n' > /usr/local/bin/serve \
    && chmod 755 /usr/local/bin/train /usr/local/bin/serve \
    && python -c "import lakeml.jobs.train, ml_pipelines.serving.server, xgboost, sagemaker.core"
EXPOSE 8080
