"""The feature store: the latest features of every customer for serving, and every record ever written
for training — SageMaker Feature Store semantics, with a local twin.

- `port`: the `FeatureStore` Protocol, its value types (`FeatureGroup`, `FeatureDefinition`) and errors;
- `rules`: which groups SageMaker accepts, definitions from dbt's gold column docs, shared errors;
- `incremental`: `ingest()`, writing only the event times the store has not ingested (both adapters);
- `records`: encoding rows to SageMaker's record shape and back, event-time formats;
- `local`: the local adapter (online SQLite + offline Parquet in the lake);
- `sagemaker`: the AWS adapter (SageMaker Feature Store).

Both adapters encode, decode and validate through the same `records`/`rules` functions, so data that
ingests locally also ingests on AWS. `lakeml.wiring` builds the adapter; everything else takes a
`FeatureStore`. This package re-exports the port and the shared helpers; adapters are imported from
their own modules.
"""

from ml_pipelines.feature_store.incremental import ingest
from ml_pipelines.feature_store.port import (
    FEATURE_TYPES,
    FeatureDefinition,
    FeatureGroup,
    FeatureGroupMismatch,
    FeatureStore,
    FeatureStoreError,
    FeatureType,
    IngestResult,
    Record,
    SchemaLike,
    UnknownFeatureGroup,
)
from ml_pipelines.feature_store.records import decode_record, encode_rows, parse_event_time
from ml_pipelines.feature_store.rules import check_group, definitions_from_gold, definitions_from_spec

__all__ = [
    "FEATURE_TYPES",
    "FeatureDefinition",
    "FeatureGroup",
    "FeatureGroupMismatch",
    "FeatureStore",
    "FeatureStoreError",
    "FeatureType",
    "IngestResult",
    "Record",
    "SchemaLike",
    "UnknownFeatureGroup",
    "check_group",
    "decode_record",
    "definitions_from_gold",
    "definitions_from_spec",
    "encode_rows",
    "ingest",
    "parse_event_time",
]
