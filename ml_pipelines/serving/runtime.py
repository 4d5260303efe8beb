"""The SageMaker Runtime API's InvokeEndpoint, as the local endpoint speaks it.

`POST /endpoints/{EndpointName}/invocations` is what boto3's `sagemaker-runtime` client (and so the
SageMaker SDK's `Endpoint.invoke`) sends; the names below are botocore's service model
(`botocore/data/sagemaker-runtime/2017-05-13/service-2.json`), which is the ground truth of what boto3
sends and parses. On AWS the runtime forwards the request to the container's `/invocations` and maps the
container's 4xx/5xx to a `ModelError` (HTTP 424); the local server does the same in-process, so a body
that `/invocations` accepts gets the same predictions on both routes.

Errors are rest-json errors as botocore parses them: the code in the `x-amzn-ErrorType` header (the part
before ':'), the message in the JSON body's `message`; ModelError also carries `OriginalStatusCode` and
`OriginalMessage` (the container's own status and body). SigV4 headers (`Authorization`, `X-Amz-Date`,
`X-Amz-Security-Token`, `X-Amz-Content-Sha256`) are accepted and not checked: the server binds 127.0.0.1.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from ml_pipelines.serving.payload import BadRequest

TARGET_VARIANT = "X-Amzn-SageMaker-Target-Variant"
INVOKED_VARIANT = "X-Amzn-Invoked-Production-Variant"
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
INFERENCE_ID = "X-Amzn-SageMaker-Inference-Id"
ERROR_TYPE = "x-amzn-ErrorType"
# Headers of features the local endpoint does not have (one model per variant, no explainer, no sessions):
# refused with a ValidationError rather than silently ignored, as SageMaker refuses them on such endpoints.
UNSUPPORTED = {
    "X-Amzn-SageMaker-Target-Model": "is not a multi-model endpoint and does not support target model header",
    "X-Amzn-SageMaker-Inference-Component": "hosts no inference components",
    "X-Amzn-SageMaker-Target-Container-Hostname": "does not use direct invocation of several containers",
    "X-Amzn-SageMaker-Enable-Explanations": "has no Clarify explainer configured",
    "X-Amzn-SageMaker-Session-Id": "does not support stateful sessions",
}


def error(code: str, status: int, message: str, **members: object) -> Response:
    """A rest-json error response: botocore raises ClientError (Error.Code = `code`) from it."""
    return JSONResponse(
        {"message": message, **members},
        status_code=status,
        headers={ERROR_TYPE: code},
    )


def validation_error(message: str) -> Response:
    return error("ValidationError", 400, message)


def unknown_endpoint(name: str, serving: str) -> Response:
    return validation_error(
        f"Endpoint {name} of account local not found. This `lakeml serve` serves the endpoint {serving!r}: "
        f"invoke that name, or start `lakeml serve --endpoint {name}` for the other one."
    )


def unsupported_header(endpoint: str, headers: Headers) -> Response | None:
    """A ValidationError for the first header naming a feature this endpoint lacks, else None."""
    for header, reason in UNSUPPORTED.items():
        if header in headers:
            return validation_error(f"Endpoint {endpoint} {reason} ({header}); drop the header locally.")
    return None


def model_error(exc: BadRequest, variant: str | None) -> Response:
    """The container refused the request (`exc`, a 4xx with a message): SageMaker answers ModelError."""
    original = json.dumps({"error": str(exc)})
    return error(
        "ModelError",
        424,
        f'Received client error ({exc.status}) from {variant or "primary"} with message "{exc}".',
        OriginalStatusCode=exc.status,
        OriginalMessage=original,
    )
