"""What each transform target adapter does beyond the shared contract: the wiring's choice of adapter,
the settings each one refuses to run without, where the local views find the twin, and the one Spark
home per process. Offline and fast: nothing here starts Spark, Glue or a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeml.core.errors import ConfigError
from lakeml.core.lake.local import LocalLake
from lakeml.core.settings import Settings
from lakeml.transform.targets.glue import GlueTarget, snowflake_views
from lakeml.transform.targets.local import LocalSparkTarget, claim_session_home, twin_views
from lakeml.wiring import adapters

ROLE = "arn:aws:iam::123456789012:role/acme-glue"


@pytest.mark.parametrize(
    ("env", "choice", "adapter"),
    [
        ("local", None, LocalSparkTarget),
        ("local", "glue", GlueTarget),
        ("aws", None, GlueTarget),
        ("aws", "local", LocalSparkTarget),
    ],
)
def test_the_wiring_picks_local_spark_locally_glue_on_aws_and_transform_target_overrides(
    home: Path, env: str, choice: str | None, adapter: type
) -> None:
    settings = Settings(env=env, home=home, transform={"target": choice}, aws={"lake_bucket": "acme-lake"})
    assert isinstance(adapters(settings).transform_target, adapter)


def test_glue_without_a_role_names_the_setting(home: Path) -> None:
    settings = Settings(env="aws", home=home, aws={"lake_bucket": "acme-lake"})
    with pytest.raises(ConfigError, match="LAKEML_AWS__GLUE_ROLE_ARN"):
        adapters(settings).transform_target.profile()


def test_glue_refuses_a_lake_that_is_not_in_s3(home: Path) -> None:
    settings = Settings(home=home, aws={"glue_role_arn": ROLE})
    target = GlueTarget(settings, LocalLake.create(home / "lake"), snowflake_views(settings.source))
    with pytest.raises(ConfigError, match="glue target .* the lake is file://"):
        target.profile()


def test_the_local_views_ask_for_the_twin_only_when_built_and_an_explicit_host_wins(home: Path) -> None:
    asked: list[str] = []

    class Server:
        host, port = "127.0.0.1", 45123

    def endpoint() -> Server:
        asked.append("endpoint")
        return Server()

    settings = Settings(home=home)
    views = twin_views(settings.source, endpoint)
    assert asked == []
    assert views().environment["LAKEML_SOURCE__PORT"] == "45123" and asked == ["endpoint"]

    elsewhere = Settings(home=home, source={"host": "emulator.test", "port": 8085})
    profile = twin_views(elsewhere.source, endpoint)()
    assert (profile.environment["LAKEML_SOURCE__HOST"], profile.environment["LAKEML_SOURCE__PORT"]) == (
        "emulator.test",
        "8085",
    )
    assert asked == ["endpoint"]


def test_the_snowflake_views_pass_role_warehouse_and_key_only_when_set(home: Path) -> None:
    bare = snowflake_views(Settings(home=home, source={"account": "acme"}).source)().environment
    assert set(bare) == {"LAKEML_SOURCE__ACCOUNT", "LAKEML_SOURCE__USER", "LAKEML_SOURCE__DATABASE"}
    assert "LAKEML_SOURCE__PASSWORD" not in bare  # key-pair auth only: the profile has no password


def test_one_process_runs_spark_for_one_home_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lakeml.transform.targets.local as local_target

    monkeypatch.setattr(local_target, "_session_home", None)
    claim_session_home(tmp_path / "a")
    claim_session_home(tmp_path / "a")
    with pytest.raises(
        ConfigError, match="already runs Spark for LAKEML_HOME=.*a.*Run a new process per home"
    ):
        claim_session_home(tmp_path / "b")


def test_an_unknown_target_option_is_a_usage_error(lakeml) -> None:
    result = lakeml("--json", "transform", "--target", "snowflake_local")
    assert result.code == 2, result
    assert "--target 'snowflake_local' is not a transform target" in result.json["error"]
    assert "--snowflake" in result.json["error"]
