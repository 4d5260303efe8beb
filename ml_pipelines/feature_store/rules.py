"""The feature store's rules, shared by both adapters: which groups SageMaker accepts, where a group's
definitions come from (dbt's gold column docs), and the errors both adapters raise with the same words.
"""

from __future__ import annotations

import re
from pathlib import Path

from ml_pipelines.feature_store.port import (
    FEATURE_TYPES,
    FeatureDefinition,
    FeatureGroup,
    FeatureGroupMismatch,
    FeatureStoreError,
    SchemaLike,
    UnknownFeatureGroup,
)

# SageMaker's rules (CreateFeatureGroup docs / botocore model).
GROUP_NAME = re.compile(r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$")
FEATURE_NAME = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")
RESERVED_FEATURE_NAMES = frozenset({"is_deleted", "write_time", "api_invocation_time"})


def definitions_from_spec(spec: SchemaLike) -> tuple[tuple[FeatureDefinition, ...], str, str]:
    """(definitions, record id, event time) of a feature spec parsed from dbt's column docs; each column's
    Feature Store type comes from its dbt `data_type` (`ml_pipelines.features.Column.feature_type`)."""
    definitions = tuple(FeatureDefinition(c.name, c.feature_type) for c in spec.columns)
    return definitions, spec.id_column, spec.event_time_column


def definitions_from_gold(model: str = "customer_features", path: Path | None = None) -> FeatureGroup:
    """The feature group of a gold model, read from `dbt_project/models/gold/_gold.yml` (the one schema
    source shared with dbt's column docs; parsed by `ml_pipelines.features`)."""
    from ml_pipelines import features

    columns = features.load_models(path or features.GOLD_SCHEMA)
    if model not in columns:
        raise FeatureStoreError(f"{path or features.GOLD_SCHEMA} documents no model {model!r}")
    spec = features.spec_from_columns(columns[model], model=model, need_label=False)
    definitions, record_id, event_time = definitions_from_spec(spec)
    return FeatureGroup(model, definitions, record_id, event_time)


def check_group(group: FeatureGroup) -> None:
    """Refuse a group SageMaker would refuse, with the reason."""
    if not GROUP_NAME.match(group.name):
        raise FeatureStoreError(
            f"feature group name {group.name!r} is not valid; use 1-64 letters and digits, joined by - or _"
        )
    seen: set[str] = set()
    for d in group.definitions:
        if not FEATURE_NAME.match(d.name) or d.name.lower() in RESERVED_FEATURE_NAMES:
            raise FeatureStoreError(
                f"feature name {d.name!r} in group {group.name} is not valid on SageMaker: use letters and "
                f"digits joined by - or _, not one of {', '.join(sorted(RESERVED_FEATURE_NAMES))}"
            )
        if d.type not in FEATURE_TYPES:
            raise FeatureStoreError(
                f"feature {d.name}: type {d.type!r} is not one of {', '.join(FEATURE_TYPES)}"
            )
        if d.name.lower() in seen:
            raise FeatureStoreError(f"feature {d.name} is defined twice in group {group.name}")
        seen.add(d.name.lower())
    types = group.types
    if group.record_id not in types:
        raise FeatureStoreError(
            f"record identifier {group.record_id!r} is not one of group {group.name}'s features"
        )
    if types.get(group.event_time) not in ("String", "Fractional"):
        raise FeatureStoreError(
            f"event time {group.event_time!r} of group {group.name} must be a String (ISO-8601) or Fractional "
            f"(epoch seconds) feature; it is {types.get(group.event_time) or 'not defined'}"
        )


def differences(existing: FeatureGroup, wanted: FeatureGroup) -> list[str]:
    out = []
    old, new = existing.types, wanted.types
    out += [f"adds {n}" for n in new if n not in old]
    out += [f"drops {n}" for n in old if n not in new]
    out += [f"changes {n} {old[n]} -> {new[n]}" for n in new if n in old and old[n] != new[n]]
    if existing.record_id != wanted.record_id:
        out.append(f"record identifier {existing.record_id} -> {wanted.record_id}")
    if existing.event_time != wanted.event_time:
        out.append(f"event time {existing.event_time} -> {wanted.event_time}")
    return out


def mismatch(existing: FeatureGroup, wanted: FeatureGroup) -> FeatureGroupMismatch:
    return FeatureGroupMismatch(
        f"feature group {existing.name} already exists with other features (this schema "
        f"{'; '.join(differences(existing, wanted))}). A feature group's definitions cannot be changed: "
        f"ingest into a new group (e.g. {existing.name}-v2) and point the pipeline's --feature-group at it"
    )


def unknown_group(name: str, known: list[str]) -> UnknownFeatureGroup:
    return UnknownFeatureGroup(
        f"feature group {name!r} does not exist (groups: {', '.join(known) or 'none yet'}); the pipeline's "
        "IngestFeatures step creates it — run the pipeline (`lakeml run`) first"
    )
