"""The Glue operations the twin answers: what dbt-glue calls (read from the installed adapter:
`dbt/adapters/glue/gluedbapi/connection.py`, `cursor.py`, `commons.py`, `impl.py`), request and response
shapes as in botocore's Glue model. Plus the two calls dbt-glue makes beside Glue when it creates a
schema: STS GetCallerIdentity and Lake Formation BatchGrantPermissions (granted: the twin has no Lake
Formation, everyone may do everything).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lakeml.twins.glue.catalog import AlreadyExists, Catalog, NotFound
from lakeml.twins.glue.paths import LakeMap
from lakeml.twins.glue.sessions import LONG_POLL_S, Session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ACCOUNT = "000000000000"

# The Glue operations dbt-glue 1.12 calls; each one here is answered (tests/twins/glue/test_api.py).
OPERATIONS = (
    "CreateSession",
    "GetSession",
    "ListSessions",
    "StopSession",
    "DeleteSession",
    "RunStatement",
    "GetStatement",
    "ListStatements",
    "CancelStatement",
    "GetSecurityConfiguration",
    "GetDatabases",
    "GetDatabase",
    "CreateDatabase",
    "DeleteDatabase",
    "GetTables",
    "GetTable",
    "UpdateTable",
)


class ApiError(Exception):
    """A Glue error response: `code` is its `__type` (botocore raises `client.exceptions.<code>`)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class GlueApi:
    def __init__(self, spark: SparkSession, lake: LakeMap, account: str = ACCOUNT) -> None:
        self.spark = spark
        self.lake = lake
        self.account = account
        self.catalog = Catalog(spark, lake, account)
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.last_request = time.monotonic()

    @property
    def busy(self) -> bool:
        return any(s.busy for s in list(self.sessions.values()))

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.last_request = time.monotonic()
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = (
            getattr(self, "op_" + operation, None) if operation in OPERATIONS else None
        )
        if handler is None:
            raise ApiError("UnknownOperationException", f"the local Glue twin does not answer {operation}")
        try:
            return handler(params)
        except NotFound as exc:
            raise ApiError("EntityNotFoundException", str(exc)) from exc
        except AlreadyExists as exc:
            raise ApiError("AlreadyExistsException", str(exc)) from exc
        except KeyError as exc:
            raise ApiError("InvalidInputException", f"missing parameter {exc}") from exc

    # --- sessions ----------------------------------------------------------------------------------------

    def _session(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise ApiError("EntityNotFoundException", f"Session {session_id} not found.")
        return session

    def op_CreateSession(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if params["Id"] in self.sessions:
                raise ApiError("AlreadyExistsException", f"Session {params['Id']} already exists.")
            session = Session(params, self.spark, self.lake)
            self.sessions[session.id] = session
        return {"Session": session.to_json(created_response=True)}

    def op_GetSession(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Session": self._session(params["Id"]).to_json()}

    def op_ListSessions(self, params: dict[str, Any]) -> dict[str, Any]:
        sessions = list(self.sessions.values())
        return {"Ids": [s.id for s in sessions], "Sessions": [s.to_json() for s in sessions]}

    def op_StopSession(self, params: dict[str, Any]) -> dict[str, Any]:
        session = self._session(params["Id"])
        session.stop()
        return {"Id": session.id}

    def op_DeleteSession(self, params: dict[str, Any]) -> dict[str, Any]:
        session = self._session(params["Id"])
        if session.status not in ("STOPPED", "FAILED", "TIMEOUT"):
            session.stop()
        with self.lock:
            self.sessions.pop(session.id, None)
        return {"Id": session.id}

    def op_RunStatement(self, params: dict[str, Any]) -> dict[str, Any]:
        session = self._session(params["SessionId"])
        if session.status != "READY":
            raise ApiError("IllegalSessionStateException", f"Session {session.id} is {session.status}.")
        return {"Id": session.run(params["Code"]).id}

    def op_GetStatement(self, params: dict[str, Any]) -> dict[str, Any]:
        session = self._session(params["SessionId"])
        statement = session.statements.get(int(params["Id"]))
        if statement is None:
            raise ApiError("EntityNotFoundException", f"Statement {params['Id']} not found.")
        statement.done.wait(LONG_POLL_S)
        return {"Statement": statement.to_json()}

    def op_ListStatements(self, params: dict[str, Any]) -> dict[str, Any]:
        session = self._session(params["SessionId"])
        return {"Statements": [s.to_json() for s in list(session.statements.values())]}

    def op_CancelStatement(self, params: dict[str, Any]) -> dict[str, Any]:
        session = self._session(params["SessionId"])
        statement = session.statements.get(int(params["Id"]))
        if statement is None:
            raise ApiError("EntityNotFoundException", f"Statement {params['Id']} not found.")
        session.cancel(statement)
        return {}

    def op_GetSecurityConfiguration(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "SecurityConfiguration": {
                "Name": params["Name"],
                "EncryptionConfiguration": {"S3Encryption": [{"S3EncryptionMode": "DISABLED"}]},
            }
        }

    # --- Data Catalog ------------------------------------------------------------------------------------

    def op_GetDatabases(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"DatabaseList": self.catalog.databases()}

    def op_GetDatabase(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Database": self.catalog.database(params["Name"])}

    def op_CreateDatabase(self, params: dict[str, Any]) -> dict[str, Any]:
        self.catalog.create_database(params["DatabaseInput"])
        return {}

    def op_DeleteDatabase(self, params: dict[str, Any]) -> dict[str, Any]:
        self.catalog.delete_database(params["Name"])
        return {}

    def op_GetTables(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"TableList": self.catalog.tables(params["DatabaseName"], params.get("Expression"))}

    def op_GetTable(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Table": self.catalog.table(params["DatabaseName"], params["Name"])}

    def op_UpdateTable(self, params: dict[str, Any]) -> dict[str, Any]:
        self.catalog.update_table(params["DatabaseName"], params["TableInput"])
        return {}

    # --- beside Glue -------------------------------------------------------------------------------------

    def caller_identity(self) -> dict[str, str]:
        """STS GetCallerIdentity (dbt-glue's create_schema asks for the account)."""
        return {
            "Account": self.account,
            "Arn": f"arn:aws:iam::{self.account}:user/lakeml",
            "UserId": "LAKEML",
        }
