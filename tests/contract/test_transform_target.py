"""The transform target contract, run against both adapters as the wiring builds them: local Spark
(LAKEML_ENV=local) and Glue (LAKEML_ENV=aws). Offline: dbt parses, nothing connects.

For the lake models' target and for the extraction views' target alike: lakeml supplies every variable
the target's block of profiles.yml reads (nothing silently falls back to a profile default), each with
its setting's value; `dbt parse` succeeds with exactly that environment; the lake root dbt gets is the
lake storage adapter's URI; and after a run nothing of it is left in the process environment.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from lakeml.core import environ
from lakeml.core.settings import Settings, reference
from lakeml.transform.project import PROFILES_DIR, PROJECT_DIR
from lakeml.transform.runner import dbt_environment, run_dbt
from lakeml.transform.targets import DbtProfile, TransformTarget
from lakeml.wiring import Adapters, adapters

AWS_SETTINGS = {
    "region": "eu-central-1",
    "lake_bucket": "acme-lake",
    "glue_role_arn": "arn:aws:iam::123456789012:role/acme-glue",
}
SOURCE_SETTINGS = {
    "account": "acme-xy12345",
    "user": "LAKEML_DBT",
    "role": "LAKEML_TRANSFORM",
    "warehouse": "LAKEML_WH",
    "private_key_path": "/secrets/dbt.p8",
}


@pytest.fixture(params=["local", "aws"])
def ports(request: pytest.FixtureRequest, home: Path) -> Adapters:
    """The adapters of one environment; their transform target is the adapter under test."""
    knobs = {"threads": 3, "spark_cores": 1, "spark_driver_memory": "3g", "glue_workers": 5}
    if request.param == "local":
        settings = Settings(home=home, transform=knobs)
    else:
        settings = Settings(env="aws", home=home, transform=knobs, aws=AWS_SETTINGS, source=SOURCE_SETTINGS)
    return adapters(settings)


@pytest.fixture(params=["lake", "views"])
def profile(request: pytest.FixtureRequest, ports: Adapters) -> DbtProfile:
    """The lake models' profile, or the extraction views' (locally that starts this home's twin)."""
    target = ports.transform_target
    return target.profile() if request.param == "lake" else target.extraction_views()


def _profile_variables(target: str) -> set[str]:
    """The env_var() names the `target` block of profiles.yml reads."""
    text = (PROFILES_DIR / "profiles.yml").read_text()
    block = re.search(rf"^    {re.escape(target)}:\n(.*?)(?=^    \w+:\n|\Z)", text, re.M | re.S)
    assert block, f"no output {target!r} in profiles.yml"
    return set(re.findall(r"env_var\('([A-Z0-9_]+)'", block.group(1)))


def _setting(settings: Settings, variable: str) -> Any:
    """The value of the setting whose environment variable is `variable`."""
    (key,) = [row["key"] for row in reference() if row["env"] == variable]
    value: Any = settings.model_dump(by_alias=True)
    for part in key.split("."):
        value = value[part]
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


def test_the_profile_supplies_every_variable_its_block_reads(profile: DbtProfile) -> None:
    read = _profile_variables(profile.target)
    assert read, profile.target
    assert read <= set(profile.environment), f"not supplied: {sorted(read - set(profile.environment))}"


def test_each_variable_carries_its_settings_value(ports: Adapters, profile: DbtProfile) -> None:
    for variable, value in profile.environment.items():
        assert variable.startswith("LAKEML_"), variable
        if variable in ("LAKEML_SOURCE__HOST", "LAKEML_SOURCE__PORT") and ports.settings.source.host is None:
            continue  # the twin's server: checked below
        assert value == str(_setting(ports.settings, variable)), variable


def test_the_views_reach_the_twin_locally_and_snowflake_on_aws(ports: Adapters) -> None:
    profile = ports.transform_target.extraction_views()
    if ports.settings.env == "local":
        server = ports.twin.running()
        assert profile.target == "snowflake_local" and server is not None
        assert (profile.environment["LAKEML_SOURCE__HOST"], profile.environment["LAKEML_SOURCE__PORT"]) == (
            server.host,
            str(server.port),
        )
    else:
        assert profile.target == "snowflake"


def test_the_lake_root_is_the_lake_adapters_uri(ports: Adapters) -> None:
    target = ports.transform_target
    assert target.profile().project_vars == {"lake_root": ports.lake.uri}
    assert target.lake_uri == ports.lake.uri
    assert target.quarantine_uri == ports.lake.uri_of("quarantine", "dbt")
    assert target.profile().target == target.name == ("local" if ports.settings.env == "local" else "glue")


def test_dbt_parses_the_lake_models_offline_and_nothing_is_left_in_the_environment(
    ports: Adapters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the runner, as `lakeml transform` calls dbt. What the target hands dbt is set for the call
    only: a later load_settings() sees the user's environment, not the profile's (Java and Spark's conf
    dir are set for the rest of the process, for the JVM dbt starts)."""
    import lakeml.transform.targets.local as local_target

    monkeypatch.setattr(local_target, "_session_home", None)  # one Spark home per process; none started
    _only_the_test_home(monkeypatch)
    target: TransformTarget = ports.transform_target
    before = _ours(os.environ)
    report = run_dbt(target, ["parse"])
    assert report.success and report.target == target.name
    assert _ours(os.environ) == before
    assert {"orders", "customer_features", "churn_training_set"} <= _models(target)
    assert not any(name.startswith("extract_") for name in _models(target))


def test_dbt_parses_the_extraction_views_offline_with_their_environment(
    ports: Adapters, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dbt.cli.main import dbtRunner

    _only_the_test_home(monkeypatch)
    target = ports.transform_target
    profile = target.extraction_views()
    command = ["parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR)]
    handed = dbt_environment(target, profile)
    with environ.scoped(handed):
        result = dbtRunner().invoke([*command, "--target", profile.target, "--log-level", "none"])
    assert result.success, f"dbt parse --target {profile.target} failed: {result.exception}"
    assert not set(handed) & set(_ours(os.environ))
    assert _models(target) == {
        "extract_customers",
        "extract_orders",
        "extract_order_items",
        "extract_products",
        "extract_support_tickets",
    }


def _only_the_test_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt sees only what lakeml hands it: none of the test process's own LAKEML_*/DBT_* variables."""
    for name in [*os.environ]:
        if name.startswith(("LAKEML_", "DBT_")):
            monkeypatch.delenv(name)


def _models(target: TransformTarget) -> set[str]:
    manifest = json.loads((target.results_dir / "manifest.json").read_text())
    return {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def _ours(env: Mapping[str, str]) -> dict[str, str]:
    """The variables lakeml and dbt read (libraries may set their own, e.g. Arrow's memory pool)."""
    return {k: v for k, v in env.items() if k.startswith(("LAKEML_", "DBT_"))}
