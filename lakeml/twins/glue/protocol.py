"""The wire protocols of the twin, one HTTP server for the three services dbt-glue's boto3 clients are
pointed at (`AWS_ENDPOINT_URL_GLUE`, `_STS`, `_LAKEFORMATION`):

- Glue: awsJson1.1 — `POST /`, `X-Amz-Target: AWSGlue.<Operation>`, JSON in and out; an error is HTTP 400
  with `{"__type": "<Code>", "message": …}`, which botocore raises as `client.exceptions.<Code>`.
- STS: the query protocol — a form-encoded `Action=GetCallerIdentity`, XML out.
- Lake Formation: restJson1 — `POST /BatchGrantPermissions`, granted without failures.

Signatures are not checked (any credentials are accepted, as every local twin does).
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs
from uuid import uuid4

from lakeml.twins.glue.api import ApiError, GlueApi

GLUE_PREFIX = "AWSGlue."


def handler_for(api: GlueApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._send(200, "application/json", b'{"service": "lakeml glue twin"}')

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = self.headers.get("X-Amz-Target", "")
            if target.startswith(GLUE_PREFIX):
                self._glue(target.removeprefix(GLUE_PREFIX), body)
            elif (
                self.path.rstrip("/") == "/BatchGrantPermissions"
                or self.path.rstrip("/") == "/BatchRevokePermissions"
            ):
                self._json(200, {"Failures": []})
            else:
                self._sts(parse_qs(body.decode()))

        def _glue(self, operation: str, body: bytes) -> None:
            try:
                params = json.loads(body or b"{}")
                self._json(200, api.call(operation, params))
            except ApiError as exc:
                self._json(exc.status, {"__type": exc.code, "message": exc.message}, error=exc.code)
            except Exception as exc:  # a twin bug answers as Glue's internal error
                self._json(500, {"__type": "InternalServiceException", "message": repr(exc)}, error="x")

        def _sts(self, form: dict[str, list[str]]) -> None:
            action = (form.get("Action") or [""])[0]
            if action != "GetCallerIdentity":
                xml = (
                    "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>"
                    f"<Message>the local Glue twin does not answer STS {action}</Message></Error>"
                    f"<RequestId>{uuid4()}</RequestId></ErrorResponse>"
                )
                self._send(400, "text/xml", xml.encode())
                return
            who = api.caller_identity()
            xml = (
                '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                f"<GetCallerIdentityResult><Arn>{who['Arn']}</Arn><UserId>{who['UserId']}</UserId>"
                f"<Account>{who['Account']}</Account></GetCallerIdentityResult>"
                f"<ResponseMetadata><RequestId>{uuid4()}</RequestId></ResponseMetadata>"
                "</GetCallerIdentityResponse>"
            )
            self._send(200, "text/xml", xml.encode())

        def _json(self, status: int, doc: dict[str, Any], error: str | None = None) -> None:
            headers = {"x-amzn-ErrorType": error} if error else {}
            self._send(status, "application/x-amz-json-1.1", json.dumps(doc, default=str).encode(), headers)

        def _send(self, status: int, kind: str, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", str(uuid4()))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler
