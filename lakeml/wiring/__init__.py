"""The one switch: every port's adapter is chosen here, from `settings.env`, and nowhere else.

`adapters(settings)` returns the local twins (`LocalAdapters`) or the AWS adapters (`AwsAdapters`);
each port is built on first use, so a command pays only for the ports it touches. Domain code never
imports this package: the app layer (CLI, flow, Lambda handlers, SageMaker job entry points) calls it
and passes the ports down. `tests/test_architecture.py` fails if anything else reads `settings.env`.
"""

from __future__ import annotations

from lakeml.core.settings import Settings
from lakeml.wiring.port import Adapters


def adapters(settings: Settings) -> Adapters:
    """The adapters of every port for `settings`: local twins, or AWS."""
    if settings.env == "aws":
        from lakeml.wiring.aws import AwsAdapters

        return AwsAdapters(settings)
    from lakeml.wiring.local import LocalAdapters

    return LocalAdapters(settings)


__all__ = ["Adapters", "adapters"]
