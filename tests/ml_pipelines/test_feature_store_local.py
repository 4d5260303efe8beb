"""Local feature store details and the feature definitions read from dbt's gold column docs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from lakeml.core.lake.local import LocalLake
from ml_pipelines.feature_store import (
    FeatureDefinition,
    UnknownFeatureGroup,
    check_group,
    definitions_from_gold,
)
from ml_pipelines.feature_store.local import LocalFeatureStore


@pytest.fixture
def store(tmp_path: Path) -> LocalFeatureStore:
    lake = LocalLake.create(tmp_path / "lake")
    return LocalFeatureStore(lake, tmp_path / "state.db")


def test_gold_customer_features_map_to_a_valid_feature_group() -> None:
    group = definitions_from_gold("customer_features")
    check_group(group)  # SageMaker would accept it
    assert (group.record_id, group.event_time) == ("customer_id", "snapshot_date")
    assert group.types["customer_id"] == "Integral" and group.types["snapshot_date"] == "String"
    assert {"Integral", "Fractional", "String"} <= set(group.types.values())


def test_gold_data_types_map_to_feature_store_types(tmp_path: Path) -> None:
    schema = tmp_path / "_gold.yml"
    schema.write_text(
        """
models:
  - name: tiny_features
    columns:
      - {name: customer_id, data_type: bigint}
      - {name: snapshot_date, data_type: date}
      - {name: opted_in, data_type: boolean}
      - {name: spend, data_type: "decimal(12,2)"}
      - {name: ratio, data_type: double}
      - {name: region, data_type: string}
"""
    )
    group = definitions_from_gold("tiny_features", schema)
    assert group.definitions == (
        FeatureDefinition("customer_id", "Integral"),
        FeatureDefinition("snapshot_date", "String"),
        FeatureDefinition("opted_in", "Integral"),
        FeatureDefinition("spend", "Fractional"),
        FeatureDefinition("ratio", "Fractional"),
        FeatureDefinition("region", "String"),
    )


def test_an_unknown_group_says_how_it_gets_created(store: LocalFeatureStore) -> None:
    with pytest.raises(UnknownFeatureGroup, match=r"'nope' does not exist \(groups: none yet\).*lakeml run"):
        store.get_record("nope", 1)


def test_offline_files_appear_whole(store: LocalFeatureStore, tmp_path: Path) -> None:
    store.ensure_group(
        "g", [FeatureDefinition("id", "String"), FeatureDefinition("t", "Fractional")], "id", "t"
    )
    store.put_records("g", pa.table({"id": ["a", "b"], "t": [1.0, 2.0]}))
    store.put_records("g", pa.table({"id": ["a"], "t": [0.5]}))
    files = sorted(p.name for p in (tmp_path / "lake" / "feature_store" / "g" / "data").iterdir())
    assert len(files) == 2 and all(name.endswith(".parquet") for name in files)
    assert store.get_record("g", "a") == {"id": "a", "t": 1.0}  # epoch-seconds event time: older 0.5 loses
