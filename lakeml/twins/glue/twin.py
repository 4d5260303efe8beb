"""The handle the wiring gives the app layer for the local Glue twin: `LocalAdapters.glue_twin`.

Started on demand (the local glue target asks for its endpoint when dbt is about to run), stopped by
`stop()` or by its own idle timeout. Only the wiring builds it, and only locally: on AWS dbt-glue talks to
AWS Glue itself.
"""

from __future__ import annotations

from lakeml.core.settings import Settings
from lakeml.twins.glue import lifecycle
from lakeml.twins.glue.lifecycle import GlueServer


class GlueTwin:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def ensure_running(self) -> GlueServer:
        """This home's twin, started (and waited for) when it is not running; has `.url`."""
        return lifecycle.ensure_running(self.settings)

    def running(self) -> GlueServer | None:
        return lifecycle.running(self.settings)

    def stop(self) -> GlueServer | None:
        """Stop this home's twin (its catalog and the lake stay on disk); what was stopped, or None."""
        return lifecycle.stop(self.settings)
