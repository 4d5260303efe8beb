"""The secrets provider contract, run against both adapters: settings (local) and Secrets Manager (moto).

Both must hand `snowflake.connector.connect` the same identity for the same credentials, so the engine
never knows where they came from; the Secrets Manager one must also cache, and fail with messages that
name the secret and the field but never a value.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ingestion.secrets.port import SecretsProvider
from ingestion.secrets.secrets_manager import SecretsManagerSecrets, secrets_client_provider
from ingestion.secrets.settings_secrets import SettingsSecrets
from lakeml.core.errors import ConfigError
from lakeml.core.settings import Settings
from tests.contract.aws_emulator import REGION, create_secret

CANARY = "canary-Pa55w0rd-7f3c9e"  # must never show up in an error message
IDENTITY = {
    "account": "acme-prod",
    "user": "LAKEML_INGEST",
    "warehouse": "INGEST_WH",
    "role": "LAKEML_INGEST_ROLE",
    "host": "acme-prod.snowflakecomputing.example",
    "port": 443,
    "protocol": "https",
}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey, passphrase: str | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def aws_settings(aws_endpoint: str, home: Path) -> Callable[[dict[str, Any]], Settings]:
    """Settings for the aws adapter whose secret (a fresh name per call) holds `value`."""

    def make(value: dict[str, Any]) -> Settings:
        secret_id = f"lakeml/snowflake/{uuid.uuid4().hex[:10]}"
        create_secret(aws_endpoint, secret_id, value)
        return Settings(
            env="aws",
            source={"secret_id": secret_id},
            aws={"region": REGION, "endpoint_url": aws_endpoint, "lake_bucket": "unused"},
        )

    return make


@pytest.fixture(params=["settings", "secretsmanager"])
def password_provider(
    request: pytest.FixtureRequest, home: Path, rsa_key: rsa.RSAPrivateKey
) -> SecretsProvider:
    """The same password credentials, once in settings and once in a Secrets Manager secret."""
    if request.param == "settings":
        return SettingsSecrets(Settings(source={**IDENTITY, "password": CANARY}))
    make = request.getfixturevalue("aws_settings")
    return SecretsManagerSecrets(make({**IDENTITY, "password": CANARY}))


def test_password_credentials_give_the_connector_kwargs(password_provider: SecretsProvider) -> None:
    params = password_provider.snowflake_credentials()
    assert {k: params[k] for k in IDENTITY} == IDENTITY
    assert params["password"] == CANARY
    assert params["database"] == "RETAIL" and params["schema"] == "RAW"
    assert "private_key" not in params and "private_key_file" not in params


def test_both_adapters_give_identical_kwargs_for_password_auth(
    aws_settings: Callable[[dict[str, Any]], Settings],
) -> None:
    local = SettingsSecrets(Settings(source={**IDENTITY, "password": CANARY}))
    aws = SecretsManagerSecrets(aws_settings({**IDENTITY, "password": CANARY}))
    assert aws.snowflake_credentials() == local.snowflake_credentials()


def test_identity_falls_back_to_settings_when_the_secret_holds_only_user_and_password(
    aws_endpoint: str, home: Path
) -> None:
    secret_id = f"lakeml/snowflake/{uuid.uuid4().hex[:10]}"
    create_secret(aws_endpoint, secret_id, {"username": "ROTATED_USER", "password": CANARY})
    settings = Settings(
        env="aws",
        source={"secret_id": secret_id, "account": "acme-prod", "warehouse": "WH", "role": "R"},
        aws={"region": REGION, "endpoint_url": aws_endpoint},
    )
    params = SecretsManagerSecrets(settings).snowflake_credentials()
    assert (params["account"], params["user"], params["warehouse"], params["role"]) == (
        "acme-prod",
        "ROTATED_USER",
        "WH",
        "R",
    )
    assert "host" not in params  # real Snowflake: the connector derives the host from the account


def test_key_pair_secret_gives_the_same_der_key_the_connector_reads_from_a_key_file(
    aws_settings: Callable[[dict[str, Any]], Settings], tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    from snowflake.connector.connection import _get_private_bytes_from_file

    key_file = tmp_path / "rsa_key.p8"
    key_file.write_text(pem(rsa_key))
    local = SettingsSecrets(Settings(source={**IDENTITY, "password": None, "private_key_path": key_file}))
    aws = SecretsManagerSecrets(aws_settings({**IDENTITY, "private_key": pem(rsa_key)}))
    local_params, aws_params = local.snowflake_credentials(), aws.snowflake_credentials()

    assert aws_params["private_key"] == der(rsa_key)
    assert _get_private_bytes_from_file(local_params["private_key_file"]) == aws_params["private_key"]
    assert "password" not in aws_params and "password" not in local_params
    rest = {k: v for k, v in aws_params.items() if k != "private_key"}
    assert rest == {k: v for k, v in local_params.items() if k != "private_key_file"}


def test_encrypted_private_key_is_decrypted_with_its_passphrase(
    aws_settings: Callable[[dict[str, Any]], Settings], rsa_key: rsa.RSAPrivateKey
) -> None:
    secret = {**IDENTITY, "private_key": pem(rsa_key, CANARY), "private_key_passphrase": CANARY}
    params = SecretsManagerSecrets(aws_settings(secret)).snowflake_credentials()
    assert params["private_key"] == der(rsa_key)


def test_pem_with_escaped_newlines_is_accepted(
    aws_settings: Callable[[dict[str, Any]], Settings], rsa_key: rsa.RSAPrivateKey
) -> None:
    flattened = pem(rsa_key).replace("\n", "\\n")
    params = SecretsManagerSecrets(
        aws_settings({**IDENTITY, "private_key": flattened})
    ).snowflake_credentials()
    assert params["private_key"] == der(rsa_key)


def test_two_reads_within_max_age_make_one_secrets_manager_call(
    aws_settings: Callable[[dict[str, Any]], Settings],
) -> None:
    settings = aws_settings({**IDENTITY, "password": CANARY})
    calls = count_get_secret_value_calls(settings)
    SecretsManagerSecrets(settings).snowflake_credentials()
    SecretsManagerSecrets(settings).snowflake_credentials()  # a new adapter, as in a new warm invocation
    assert calls == [settings.source.secret_id]


def test_reads_after_max_age_call_secrets_manager_again(
    aws_settings: Callable[[dict[str, Any]], Settings],
) -> None:
    settings = aws_settings({**IDENTITY, "password": CANARY})
    calls = count_get_secret_value_calls(settings)
    SecretsManagerSecrets(settings, max_age=0).snowflake_credentials()
    SecretsManagerSecrets(settings, max_age=0).snowflake_credentials()
    assert len(calls) == 2


def test_reading_a_secret_never_logs_its_value_even_at_debug(
    aws_settings: Callable[[dict[str, Any]], Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """botocore logs response bodies at DEBUG; the adapter must keep the secret out of them."""
    settings = aws_settings({**IDENTITY, "password": CANARY})  # (creating it logs the value: not ours)
    caplog.set_level(logging.DEBUG)
    SecretsManagerSecrets(settings, max_age=0).snowflake_credentials()
    assert "GetSecretValue" in caplog.text  # botocore did log the call at DEBUG…
    assert CANARY not in caplog.text  # …but not the value


def count_get_secret_value_calls(settings: Settings) -> list[str]:
    """Record every GetSecretValue the adapter's (process-wide) client sends, by secret id."""
    calls: list[str] = []
    client = secrets_client_provider(settings.aws.region, settings.aws.endpoint_url).client

    def record(params: dict[str, Any], **_: Any) -> None:
        if params.get("SecretId") == settings.source.secret_id:
            calls.append(params["SecretId"])

    client.meta.events.register("provide-client-params.secrets-manager.GetSecretValue", record)
    return calls


def test_missing_secret_names_the_secret_and_the_fix(aws_endpoint: str, home: Path) -> None:
    settings = Settings(
        env="aws",
        source={"secret_id": "lakeml/snowflake/does-not-exist"},
        aws={"region": REGION, "endpoint_url": aws_endpoint},
    )
    with pytest.raises(
        ConfigError, match=r"'lakeml/snowflake/does-not-exist'.*does not exist.*LAKEML_SOURCE__SECRET_ID"
    ):
        SecretsManagerSecrets(settings).snowflake_credentials()


def test_secret_without_password_or_private_key_names_both_fields(
    aws_settings: Callable[[dict[str, Any]], Settings],
) -> None:
    settings = aws_settings({**IDENTITY})
    with pytest.raises(ConfigError, match=r"neither 'password' nor 'private_key'") as error:
        SecretsManagerSecrets(settings).snowflake_credentials()
    assert f"{settings.source.secret_id!r}" in str(error.value)


def test_invalid_field_is_named_without_quoting_any_value(
    aws_settings: Callable[[dict[str, Any]], Settings],
) -> None:
    settings = aws_settings({**IDENTITY, "port": CANARY, "password": CANARY})
    with pytest.raises(ConfigError, match=r"invalid field\(s\) port") as error:
        SecretsManagerSecrets(settings).snowflake_credentials()
    assert CANARY not in str(error.value)


def test_encrypted_key_without_passphrase_names_the_passphrase_field(
    aws_settings: Callable[[dict[str, Any]], Settings], rsa_key: rsa.RSAPrivateKey
) -> None:
    settings = aws_settings({**IDENTITY, "private_key": pem(rsa_key, CANARY)})
    with pytest.raises(ConfigError, match=r"'private_key_passphrase' is missing"):
        SecretsManagerSecrets(settings).snowflake_credentials()


def test_wrong_passphrase_is_reported_without_the_key_or_passphrase(
    aws_settings: Callable[[dict[str, Any]], Settings], rsa_key: rsa.RSAPrivateKey
) -> None:
    key = pem(rsa_key, "the-right-one")
    settings = aws_settings({**IDENTITY, "private_key": key, "private_key_passphrase": CANARY})
    with pytest.raises(ConfigError, match=r"'private_key' is not a readable PEM") as error:
        SecretsManagerSecrets(settings).snowflake_credentials()
    assert CANARY not in str(error.value) and "PRIVATE KEY" not in str(error.value)


def test_secret_that_is_not_json_is_reported(aws_endpoint: str, home: Path) -> None:
    from tests.contract.aws_emulator import client

    secret_id = f"lakeml/snowflake/{uuid.uuid4().hex[:10]}"
    client("secretsmanager", aws_endpoint).create_secret(Name=secret_id, SecretString=CANARY)
    settings = Settings(
        env="aws", source={"secret_id": secret_id}, aws={"region": REGION, "endpoint_url": aws_endpoint}
    )
    with pytest.raises(ConfigError, match="not valid JSON") as error:
        SecretsManagerSecrets(settings).snowflake_credentials()
    assert CANARY not in str(error.value)


def test_the_wiring_picks_secrets_manager_only_on_aws_with_a_secret_id(home: Path) -> None:
    from lakeml.wiring import adapters

    assert isinstance(adapters(Settings()).secrets, SettingsSecrets)
    assert isinstance(adapters(Settings(env="aws")).secrets, SettingsSecrets)
    aws = adapters(Settings(env="aws", source={"secret_id": "lakeml/snowflake"})).secrets
    assert isinstance(aws, SecretsManagerSecrets)
