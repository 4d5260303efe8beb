"""The feature list comes from dbt's gold column docs (the one schema source), with roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeml.core.errors import ConfigError
from ml_pipelines import features


def test_training_spec_reads_ids_event_time_label_and_numeric_features_from_gold_docs() -> None:
    spec = features.training_spec()
    assert (spec.id_column, spec.event_time_column, spec.label_column) == (
        "customer_id",
        "snapshot_date",
        "churned",
    )
    documented = {c.name: c for c in spec.columns}
    assert all(documented[name].role == "feature" for name in spec.features)
    assert "region" not in spec.features  # strings are not model features
    assert (
        spec.features == features.feature_group_spec().features
    )  # training uses the feature group's columns


def test_feature_group_types_follow_the_documented_data_types() -> None:
    columns = {c.name: c for c in features.feature_group_spec().columns}
    assert columns["customer_id"].feature_type == "Integral"
    assert columns["spend_90d"].feature_type == "Fractional"
    assert columns["region"].feature_type == "String"


def test_explicit_ml_role_in_meta_wins_over_naming(tmp_path: Path) -> None:
    schema = tmp_path / "_gold.yml"
    schema.write_text("""
version: 2
models:
  - name: churn_training_set
    columns:
      - {name: cust, data_type: bigint, config: {meta: {ml_role: id}}}
      - {name: as_of, data_type: date, config: {meta: {ml_role: event_time}}}
      - {name: x, data_type: double}
      - {name: internal_score, data_type: double, meta: {ml_role: ignored}}
      - {name: target, data_type: int, config: {meta: {ml_role: label}}}
""")
    spec = features.training_spec(schema)
    assert (spec.id_column, spec.event_time_column, spec.label_column, spec.features) == (
        "cust",
        "as_of",
        "target",
        ("x",),
    )


def test_a_column_without_data_type_is_refused_naming_it(tmp_path: Path) -> None:
    schema = tmp_path / "_gold.yml"
    schema.write_text("models:\n  - name: churn_training_set\n    columns:\n      - {name: customer_id}\n")
    with pytest.raises(ConfigError, match="column customer_id has no data_type"):
        features.training_spec(schema)


def test_spec_round_trips_through_features_json(tmp_path: Path) -> None:
    spec = features.training_spec()
    spec.write(tmp_path / "features.json")
    assert features.FeatureSpec.read(tmp_path / "features.json") == spec
