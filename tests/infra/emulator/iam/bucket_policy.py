"""moto 5.2.5 evaluates an S3 bucket policy on every object request but ignores its conditions, so the
lake's conditional Deny statements (DenyInsecureTransport: `aws:SecureTransport = false`, the TLS version
and encryption-header guards) deny every object call on the emulator. `conditional_bucket_policies`
patches moto's `FakeBucket.get_permission` for a block: a statement applies only when its conditions hold
for a request as AWS sees lakeml's (TLS, no encryption header), evaluated with the least-privilege
evaluator; a condition on a key it cannot know counts as not holding (this is the emulator's enforcement,
which proves nothing either way: the IAM check does).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket

from tests.infra.emulator.iam.actions import Access
from tests.infra.emulator.iam.evaluate import applies, statements
from tests.infra.emulator.iam.recorder import Call

REQUEST = {"aws:SecureTransport": "true"}


def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
    access = Access(action, resource, Call("s3", action.split(":", 1)[-1], {}, ""), REQUEST)
    result = PermissionResult.NEUTRAL
    for statement in statements("bucket", policy):
        holds, _ = applies(statement, access)
        if holds and statement.effect == "Deny":
            return PermissionResult.DENIED
        if holds:
            result = PermissionResult.PERMITTED
    return result


@contextlib.contextmanager
def conditional_bucket_policies() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FakeBucket, "get_permission", get_permission)
        yield
