"""Data contracts of ingestion: one Great Expectations suite per source object, checked row by row.

The suites (`suites/extract/*.json` for the extraction views ingestion reads by default,
`suites/raw/*.json` for the raw tables; generated from `ingestion/schema.py` by `python -m
ingestion.contracts.generate`) are the contract. On the hot path they are evaluated with vectorised
`pyarrow.compute` (`evaluate.py`), not GX's validator — a test proves both fail the same rows. GX itself is
imported only by `ingestion.contracts.gx` (tests, bench, tooling), never by `import ingestion.contracts`.

    result = check_batch(ORDERS, batch, now=run_started)      # -> ContractResult(good, quarantined)
    drift = schema_drift(last_manifest_schema, batch.schema)  # -> Drift(added, missing, retyped)
    cast, failed = cast_to_contract(ORDERS, batch)            # on_drift: quarantine_rows
"""

from ingestion.contracts.cast import cast_to_contract
from ingestion.contracts.check import REASONS, ContractDriftError, ContractResult, check_batch
from ingestion.contracts.drift import Drift, contract_schema, schema_drift
from ingestion.contracts.evaluate import ContractError

__all__ = [
    "REASONS",
    "ContractDriftError",
    "ContractError",
    "ContractResult",
    "Drift",
    "cast_to_contract",
    "check_batch",
    "contract_schema",
    "schema_drift",
]
