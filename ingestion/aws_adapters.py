"""AWS adapters of the ingestion ports: DynamoDB watermarks and Secrets Manager credentials.

Both are chosen by the one switch of their port (`watermark_store(settings)`, `secrets_provider(settings)`)
when `LAKEML_ENV=aws`, and both honour `settings.aws.endpoint_url` so the test suite can point them at a
moto server on 127.0.0.1 with exactly the calls production makes.
"""

from __future__ import annotations

import json
import logging
import lzma
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from ingestion.watermarks import Watermark, WatermarkConflict
from lakeml.core.errors import ConfigError, LakemlError
from lakeml.core.settings import Settings, SourceSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

# Key schema of the watermark table (infra creates it: hash key only, string, on-demand billing).
WATERMARK_KEY = "table_name"

# Standard retry mode: exponential backoff with jitter on throttling and 5xx, a bounded number of times.
# Conditional-check failures are not retried by botocore (they are answers, not faults).
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


class _RedactSecretResponses(logging.Filter):
    """botocore logs every response body at DEBUG, and a GetSecretValue body *is* the secret. Lambda's
    log-level controls can turn the root logger to DEBUG, so the body is replaced before any handler
    sees it; every other DEBUG line is left alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return True
        if "SecretString" in text or "SecretBinary" in text:
            record.msg = "Response body: <redacted by lakeml: it carries a Secrets Manager secret value>"
            record.args = ()
        return True


logging.getLogger("botocore.parsers").addFilter(_RedactSecretResponses())


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    return boto3.session.Session().client(
        service, region_name=region, endpoint_url=endpoint_url, config=_BOTO_CONFIG
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# --------------------------------------------------------------------------------------------------
# Watermarks
# --------------------------------------------------------------------------------------------------


class DynamoWatermarkStore:
    """AWS adapter of `WatermarkStore`: one item per table, moved by a conditional PutItem.

    The condition is on the value the caller read: `attribute_not_exists` for a first write, else equality
    of `run_id` and `cursor` (the run id is derived from the window, so the pair identifies the stored
    value). DynamoDB evaluates the condition and the write atomically, so of two runs that read the same
    value exactly one advances; the other gets `WatermarkConflict`. Reads are strongly consistent so a run
    never starts from a value older than the last commit.
    """

    def __init__(self, table_name: str, region: str, endpoint_url: str | None = None) -> None:
        self.table_name = table_name
        self.region = region
        self._client = _client("dynamodb", region, endpoint_url)

    def get(self, table: str) -> Watermark | None:
        try:
            response = self._client.get_item(
                TableName=self.table_name, Key={WATERMARK_KEY: {"S": table}}, ConsistentRead=True
            )
        except ClientError as exc:
            raise self._explain(exc, f"read the watermark of {table}") from exc
        item = response.get("Item")
        return _watermark_from_item(item) if item else None

    def advance(self, table: str, expected: Watermark | None, new: Watermark) -> None:
        # DynamoDB rejects unused placeholders, so each branch declares only its own. CURSOR is a reserved
        # word: every attribute goes through a placeholder.
        names: dict[str, str]
        values: dict[str, Any] = {}
        if expected is None:
            condition = "attribute_not_exists(#key)"
            names = {"#key": WATERMARK_KEY}
        else:
            condition = "#run_id = :expected_run_id AND #cursor = :expected_cursor"
            names = {"#run_id": "run_id", "#cursor": "cursor"}
            values = {
                ":expected_run_id": {"S": expected.run_id},
                ":expected_cursor": {"S": expected.cursor.isoformat()},
            }
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _item_from_watermark(table, new),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self._client.put_item(**request)
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise self._explain(exc, f"advance the watermark of {table}") from exc
            old = exc.response.get("Item")
            current = old["run_id"]["S"] if old and "run_id" in old else None
            raise WatermarkConflict(
                f"watermark of {table} in DynamoDB table {self.table_name} is at run {current!r} while this "
                f"run expected {expected.run_id if expected else None!r}; another run committed first. "
                "Re-run the ingestion to continue from the new value."
            ) from None

    def clear(self, table: str) -> None:
        try:
            self._client.delete_item(TableName=self.table_name, Key={WATERMARK_KEY: {"S": table}})
        except ClientError as exc:
            raise self._explain(exc, f"clear the watermark of {table}") from exc

    def _explain(self, exc: ClientError, action: str) -> LakemlError:
        code = _error_code(exc)
        if code == "ResourceNotFoundException":
            return ConfigError(
                f"cannot {action}: DynamoDB table {self.table_name!r} does not exist in {self.region}; "
                "create it (infra/, hash key 'table_name' of type S) or set LAKEML_AWS__WATERMARK_TABLE"
            )
        if code in {"AccessDeniedException", "UnrecognizedClientException"}:
            return ConfigError(
                f"cannot {action}: access to DynamoDB table {self.table_name!r} was denied ({code}); "
                "grant the function dynamodb:GetItem/PutItem/DeleteItem on it (see docs/aws.md)"
            )
        message = exc.response.get("Error", {}).get("Message", "")
        return LakemlError(f"cannot {action} in DynamoDB table {self.table_name!r}: {code}: {message}")


# A DynamoDB item holds at most 400 KB. Keys at the cursor are usually a handful, kept as a readable list;
# a bulk update that gives many rows one timestamp can produce hundreds of thousands, which are stored
# LZMA-compressed (preset 1: as small as 6 here, 4x faster) in a binary attribute instead. Measured:
# 200,000 sequential numeric ids, 2.8 MB as JSON, become 100 KB; random 10-digit ids take ~5.7 bytes
# each, so ~65,000 of those fit.
INLINE_KEYS_BYTES = 64_000
MAX_COMPRESSED_KEYS_BYTES = 380_000


def _item_from_watermark(table: str, mark: Watermark) -> dict[str, Any]:
    item: dict[str, Any] = {
        WATERMARK_KEY: {"S": table},
        "cursor": {"S": mark.cursor.isoformat()},
        "run_id": {"S": mark.run_id},
        "committed_at": {"S": datetime.now(UTC).isoformat()},  # for operators; not part of the value
    }
    keys = mark.keys_at_cursor
    if sum(len(key.encode()) + 4 for key in keys) <= INLINE_KEYS_BYTES:
        item["keys_at_cursor"] = {"L": [{"S": key} for key in keys]}
        return item
    blob = lzma.compress(json.dumps(list(keys)).encode(), preset=1)
    if len(blob) > MAX_COMPRESSED_KEYS_BYTES:
        raise LakemlError(
            f"watermark of {table}: {len(keys)} rows share the cursor {mark.cursor.isoformat()} and their keys "
            f"do not fit in one DynamoDB item even compressed ({len(blob)} bytes). Give the bulk-updated rows "
            "distinct cursor values in the source, or run this table with LAKEML_ENV=local state"
        )
    item["keys_at_cursor_xz"] = {"B": blob}
    return item


def _watermark_from_item(item: dict[str, Any]) -> Watermark:
    if "keys_at_cursor_xz" in item:
        keys = tuple(json.loads(lzma.decompress(item["keys_at_cursor_xz"]["B"])))
    else:
        keys = tuple(key["S"] for key in item.get("keys_at_cursor", {}).get("L", []))
    return Watermark(
        cursor=datetime.fromisoformat(item["cursor"]["S"]),
        keys_at_cursor=keys,
        run_id=item["run_id"]["S"],
    )


# --------------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------------

# How long a fetched secret is reused. Short enough that a rotation is picked up within minutes by warm
# functions, long enough that a run over five tables makes one Secrets Manager call.
SECRET_MAX_AGE_S = 300

# Fields a secret may hold; everything else in the JSON is ignored. `username` is accepted because it is
# what Secrets Manager's own rotation templates write.
_IDENTITY_FIELDS = ("account", "user", "warehouse", "role", "host", "port", "protocol", "database", "schema")

_providers: dict[tuple[str, str | None], SecretsProvider] = {}
_providers_lock = threading.Lock()


def _secrets_client_provider(region: str, endpoint_url: str | None) -> SecretsProvider:
    """One powertools `SecretsProvider` per (region, endpoint), kept for the life of the process.

    Its cache is what makes warm Lambda invocations skip Secrets Manager; the module-level `get_secret`
    would do the same but always builds its client from the default session, which cannot be pointed at
    `settings.aws.region`/`endpoint_url`.
    """
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    key = (region, endpoint_url)
    with _providers_lock:
        if key not in _providers:
            _providers[key] = SecretsProvider(boto3_client=_client("secretsmanager", region, endpoint_url))
        return _providers[key]


class SecretsManagerSecrets:
    """AWS adapter of `SecretsProvider`: Snowflake credentials from one Secrets Manager secret (JSON).

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

        from lakeml.twins.snowflake.connection import connection_params

        # The same function builds the connector kwargs as the local adapter, so both adapters agree on
        # every non-secret argument (database, schema, timeouts, host/port/protocol).
        params = connection_params(self.settings.model_copy(update={"source": source}))
        if pem:
            params["private_key"] = self._private_key_der(pem, secret.get("private_key_passphrase"))
        return params

    def _fetch(self) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.parameters.exceptions import (
            GetParameterError,
            TransformParameterError,
        )

        provider = _secrets_client_provider(self.settings.aws.region, self.settings.aws.endpoint_url)
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
        code = _error_code(exc) if isinstance(exc, ClientError) else ""
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
