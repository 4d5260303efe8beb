"""AWS adapter of the secrets port: Snowflake credentials from one Secrets Manager secret (JSON).

Secrets Manager because a deployed function must never carry credentials in its environment or image,
and the secret can be rotated without a deploy. Read through a powertools `SecretsProvider` (its cache
makes warm Lambda invocations skip the call) whose boto3 client comes from `lakeml.core.aws.client`
(the same retry policy, the emulator endpoint, and the log filter that keeps secret values out of logs).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from ingestion.source.params import connection_params
from lakeml.core import aws
from lakeml.core.errors import ConfigError, LakemlError
from lakeml.core.settings import Settings, SourceSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider as PowertoolsSecrets

# How long a fetched secret is reused. Short enough that a rotation is picked up within minutes by warm
# functions, long enough that a run over five tables makes one Secrets Manager call.
SECRET_MAX_AGE_S = 300

# Fields a secret may hold; everything else in the JSON is ignored. `username` is accepted because it is
# what Secrets Manager's own rotation templates write.
_IDENTITY_FIELDS = ("account", "user", "warehouse", "role", "host", "port", "protocol", "database", "schema")

_providers: dict[tuple[str, str | None], PowertoolsSecrets] = {}
_providers_lock = threading.Lock()


def secrets_client_provider(region: str, endpoint_url: str | None) -> PowertoolsSecrets:
    """One powertools `SecretsProvider` per (region, endpoint), kept for the life of the process.

    Its cache is what makes warm Lambda invocations skip Secrets Manager; the module-level `get_secret`
    would do the same but always builds its client from the default session, which cannot be pointed at
    `settings.aws.region`/`endpoint_url`.
    """
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    key = (region, endpoint_url)
    with _providers_lock:
        if key not in _providers:
            _providers[key] = SecretsProvider(boto3_client=aws.client("secretsmanager", region, endpoint_url))
        return _providers[key]


class SecretsManagerSecrets:
    """`SecretsProvider` on one Secrets Manager secret (JSON).

    The secret carries `user` and either `password` or `private_key` (PEM, PKCS#8 or PKCS#1, optionally
    encrypted with `private_key_passphrase`); `account`, `warehouse`, `role`, `host`, `port`, `protocol`,
    `database` and `schema` may come from the secret or fall back to settings. The PEM is decoded to
    unencrypted DER bytes, which is what the connector's `private_key` argument takes, so the key never
    touches the filesystem. Error messages name the secret and the field, never a value.
    """

    def __init__(self, settings: Settings, *, max_age: int = SECRET_MAX_AGE_S) -> None:
        if not settings.source.secret_id:
            raise ConfigError(
                "source.secret_id is not set; set LAKEML_SOURCE__SECRET_ID to the Secrets Manager secret "
                "holding the Snowflake credentials"
            )
        self.settings = settings
        self.secret_id = settings.source.secret_id
        self.max_age = max_age

    def snowflake_credentials(self) -> dict[str, Any]:
        secret = self._fetch()
        identity = {name: secret[name] for name in _IDENTITY_FIELDS if secret.get(name) not in (None, "")}
        if "user" not in identity and secret.get("username"):
            identity["user"] = secret["username"]
        password, pem = secret.get("password"), secret.get("private_key")
        if not password and not pem:
            raise ConfigError(
                f"secret {self.secret_id!r} has neither 'password' nor 'private_key'; add one of them "
                "(key-pair auth: 'private_key' as PEM, optionally 'private_key_passphrase')"
            )
        source = self._source_settings(identity, password if not pem else None)
        # The same function builds the connector kwargs as the local adapter, so both adapters agree on
        # every non-secret argument (database, schema, timeouts, host/port/protocol).
        params = connection_params(source)
        if pem:
            params["private_key"] = self._private_key_der(pem, secret.get("private_key_passphrase"))
        return params

    def _fetch(self) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.parameters.exceptions import (
            GetParameterError,
            TransformParameterError,
        )

        provider = secrets_client_provider(self.settings.aws.region, self.settings.aws.endpoint_url)
        try:
            value = provider.get(self.secret_id, transform="json", max_age=self.max_age)
        except TransformParameterError:
            raise ConfigError(
                f"secret {self.secret_id!r} is not valid JSON; store an object such as "
                '{"account": "...", "user": "...", "password": "..."} (see docs/aws.md)'
            ) from None
        except GetParameterError as exc:
            # powertools re-raises the boto error inside `except`, so it is the context, not the cause
            raise self._explain(exc.__cause__ or exc.__context__ or exc) from None
        except (ClientError, BotoCoreError) as exc:
            raise self._explain(exc) from None
        if not isinstance(value, dict):
            raise ConfigError(f"secret {self.secret_id!r} must be a JSON object, not {type(value).__name__}")
        return value

    def _explain(self, exc: BaseException) -> LakemlError:
        code = aws.error_code(exc)
        where = f"secret {self.secret_id!r} in {self.settings.aws.region}"
        if code == "ResourceNotFoundException":
            return ConfigError(
                f"{where} does not exist; create it (see docs/aws.md for its JSON) or set "
                "LAKEML_SOURCE__SECRET_ID to the right name"
            )
        if code in {"AccessDeniedException", "UnrecognizedClientException"}:
            return ConfigError(
                f"access to {where} was denied ({code}); grant secretsmanager:GetSecretValue on it "
                "(and kms:Decrypt on its key)"
            )
        # Only the error code / class goes into the message: botocore messages never carry the value, but
        # there is no reason to find out the hard way.
        return LakemlError(f"cannot read {where}: {code or type(exc).__name__}")

    def _source_settings(self, identity: dict[str, Any], password: str | None) -> SourceSettings:
        data = self.settings.source.model_dump(by_alias=True)
        data.update(identity)
        data.update(password=password, private_key_path=None)
        try:
            return SourceSettings.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()}))
            # pydantic's own message would quote the input, which may be a secret: name the fields only.
            raise ConfigError(
                f"secret {self.secret_id!r} has invalid field(s) {fields}; see docs/aws.md for the format"
            ) from None

    def _private_key_der(self, pem: Any, passphrase: Any) -> bytes:
        from cryptography.hazmat.primitives import serialization

        if not isinstance(pem, str):
            raise ConfigError(f"secret {self.secret_id!r}: field 'private_key' must be a PEM string")
        if "\\n" in pem and "\n" not in pem:  # PEM pasted into JSON with escaped newlines
            pem = pem.replace("\\n", "\n")
        password = passphrase.encode() if isinstance(passphrase, str) and passphrase else None
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=password)
        except TypeError:
            field = "private_key_passphrase"
            hint = (
                "is missing (the key is encrypted)"
                if password is None
                else "is set but the key is not encrypted"
            )
            raise ConfigError(f"secret {self.secret_id!r}: field {field!r} {hint}") from None
        except ValueError:
            raise ConfigError(
                f"secret {self.secret_id!r}: field 'private_key' is not a readable PEM private key, or "
                "'private_key_passphrase' does not decrypt it"
            ) from None
        return key.private_bytes(
            encoding=serialization.Encoding.DER,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )


def clear_secret_cache() -> None:
    """Forget cached secrets (tests; or after a known rotation) so the next read calls Secrets Manager."""
    with _providers_lock:
        for provider in _providers.values():
            provider.clear_cache()
