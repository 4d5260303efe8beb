"""The process environment, touched in one place besides the settings module.

lakeml's own configuration (`LAKEML_*`) is read only by `lakeml.core.settings`. What is left are
variables the platforms we run on set for us (Lambda, SageMaker's container contract, the OS), and
variables we hand to libraries that only read the environment (dbt's profile, Spark's JVM, child
processes). Both go through this module, so `tests/test_architecture.py` can forbid `os.environ` and
`getenv` everywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

# Set by the platform, never by a lakeml user: reading them is not configuration.
PLATFORM_VARIABLES = frozenset(
    {
        # AWS Lambda runtime
        "AWS_LAMBDA_FUNCTION_NAME",
        # AWS SDK defaults (the SageMaker SDK reads the region at import time)
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        # SageMaker's training / processing / serving container contract
        "SM_MODEL_DIR",
        "SM_OUTPUT_DATA_DIR",
        "SM_OUTPUT_DIR",
        "SM_INPUT_DIR",
        "SM_INPUT_CONFIG_DIR",
        "SM_HPS",
        "SM_NUM_CPUS",
        "SM_CURRENT_HOST",
        "SM_HOSTS",
        "TRAINING_JOB_NAME",
        "PROCESSING_JOB_NAME",
        "SAGEMAKER_BIND_TO_HOST",
        "SAGEMAKER_BIND_TO_PORT",
        "SAGEMAKER_VARIANT_NAME",
        # the operating system / toolchain
        "USER",
        "USERNAME",
        "JAVA_HOME",
        "PATH",
        # CI systems (GitHub Actions and others set CI=true): commands never prompt there
        "CI",
    }
)
CHANNEL_PREFIX = "SM_CHANNEL_"  # SageMaker sets one per input channel


def platform(name: str) -> str | None:
    """A variable the platform sets (Lambda, SageMaker, the OS); None when unset or empty.

    Asking for anything else is a bug: lakeml's own settings come from `load_settings()`."""
    if name not in PLATFORM_VARIABLES and not name.startswith(CHANNEL_PREFIX):
        raise ValueError(
            f"{name} is not a platform variable; read lakeml configuration through lakeml.core.settings"
        )
    return os.environ.get(name) or None


def channels() -> dict[str, str]:
    """SageMaker's input channels: SM_CHANNEL_<NAME> -> path, by lower-case channel name."""
    return {
        name.removeprefix(CHANNEL_PREFIX).lower(): value
        for name, value in os.environ.items()
        if name.startswith(CHANNEL_PREFIX) and value
    }


def export(values: Mapping[str, str]) -> None:
    """Set variables for the rest of this process (e.g. JAVA_HOME before Spark's JVM starts)."""
    os.environ.update(values)


def export_default(name: str, value: str) -> str:
    """Set a variable unless it is already set; return the value in effect."""
    return os.environ.setdefault(name, value)


@contextmanager
def scoped(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, with None, unset) variables for the duration of a block, then restore what was there.

    For libraries that read configuration only from the environment (dbt's `env_var()` in profiles,
    the SageMaker SDK at build time): the values never leak into a later `load_settings()`."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


@contextmanager
def replaced(values: Mapping[str, str]) -> Iterator[None]:
    """Make the environment exactly `values` for a block, then exactly what it was before — including
    removing what the block added. The local runner's warm workers run each job this way, so one job's
    `SM_*` variables (or anything it exported) are never seen by the next."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def child(extra: Mapping[str, str] | None = None, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment for a child process: this one's, minus `drop`, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if name not in drop}
    env.update(extra or {})
    return env


def prefixed(prefix: str) -> dict[str, str]:
    """Every variable set now whose name starts with `prefix` (the settings module passes its own, for
    its unknown-name check)."""
    return {name: value for name, value in os.environ.items() if name.startswith(prefix)}


def config_path_variable(name: str) -> str | None:
    """The value of the settings module's own pointer variable (LAKEML_CONFIG)."""
    return os.environ.get(name) or None
