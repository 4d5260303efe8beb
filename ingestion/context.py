"""What an ingestion run is given: the ports it uses (from the app layer) and the run's context.

Ingestion never chooses an adapter: `lakeml.wiring.adapters(settings)` does, and the CLI or the Lambda
handler passes the result, which satisfies `IngestPorts` structurally.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ingestion.config import SourcesConfig
from ingestion.faults import Faults
from ingestion.source.port import SourceConnector
from ingestion.watermarks.port import WatermarkStore
from lakeml.core.lake import LakeStorage

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

ProgressFn = Callable[[str, int, int], None]


class IngestPorts(Protocol):
    """The ports ingestion uses: the lake, the watermark store and the source connection."""

    @property
    def lake(self) -> LakeStorage: ...

    @property
    def watermarks(self) -> WatermarkStore: ...

    @property
    def source(self) -> SourceConnector: ...


def no_progress(_task: str, _done: int, _total: int) -> None:
    return None


@dataclass
class RunContext:
    """Everything one `ingest()` call shares between its tables."""

    config: SourcesConfig
    lake: LakeStorage
    watermarks: WatermarkStore
    source: SourceConnector
    progress: ProgressFn = no_progress
    faults: Faults = field(default_factory=Faults)

    @property
    def conn(self) -> SnowflakeConnection:
        """The kept source connection (checked, and re-opened if stale, on every use)."""
        return self.source.connection()
