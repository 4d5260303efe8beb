"""The model's feature list, read from the one schema source: dbt's gold column docs (`_gold.yml`).

dbt documents every gold column (name, data_type, description) for its own contracts and docs site; the
ML side parses the same file instead of keeping a second list, so a column added in dbt reaches the
feature group, training and serving by editing one file. Each column gets a *role*:

- `id`         — the entity key (record identifier of the feature group): `customer_id`;
- `event_time` — the snapshot date a row describes (event time of the feature group; split key);
- `label`      — the target, only in `churn_training_set`;
- `feature`    — a numeric or boolean column the model uses;
- `ignored`    — anything else (strings, dates, label-window bookkeeping), kept out of the model.

A column may say its role explicitly with `meta: {ml_role: …}` in `_gold.yml`; otherwise the role comes
from the conventional names below and the column's `data_type`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from lakeml.core.errors import ConfigError

Role = Literal["id", "event_time", "label", "feature", "ignored"]

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLD_SCHEMA = REPO_ROOT / "dbt_project" / "models" / "gold" / "_gold.yml"
FEATURES_MODEL = "customer_features"
TRAINING_MODEL = "churn_training_set"

ID_NAMES = ("customer_id",)
EVENT_TIME_NAMES = ("snapshot_date", "snapshot_ts", "as_of_date", "event_time")
LABEL_NAMES = ("churned", "is_churned", "churn", "label")
# Spark SQL type names (as dbt-spark writes them in contracts) that the model can take as numbers.
NUMERIC_TYPES = (
    "tinyint",
    "smallint",
    "int",
    "integer",
    "bigint",
    "float",
    "double",
    "decimal",
    "numeric",
    "boolean",
    "bool",
    "long",
    "real",
)
ROLES: tuple[Role, ...] = ("id", "event_time", "label", "feature", "ignored")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    role: Role
    description: str = ""

    @property
    def feature_type(self) -> Literal["Integral", "Fractional", "String"]:
        """The SageMaker Feature Store type of the column."""
        base = self.data_type.lower().split("(")[0].strip()
        if base in ("tinyint", "smallint", "int", "integer", "bigint", "long", "boolean", "bool"):
            return "Integral"
        if base in NUMERIC_TYPES:
            return "Fractional"
        return "String"


@dataclass(frozen=True)
class FeatureSpec:
    """What a model consumes and produces, in order. Written next to every model as `features.json` so
    evaluation, batch scoring and serving use exactly the columns (and order) the model was trained on."""

    id_column: str
    event_time_column: str
    label_column: str
    features: tuple[str, ...]
    columns: tuple[Column, ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id_column": self.id_column,
            "event_time_column": self.event_time_column,
            "label_column": self.label_column,
            "features": list(self.features),
            "columns": [asdict(c) for c in self.columns],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureSpec:
        return cls(
            id_column=data["id_column"],
            event_time_column=data["event_time_column"],
            label_column=data["label_column"],
            features=tuple(data["features"]),
            columns=tuple(Column(**c) for c in data.get("columns", [])),
        )

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> FeatureSpec:
        if not path.is_file():
            raise ConfigError(
                f"feature list {path} is missing; it is written by the prepare step next to "
                "the data (features.json) and by train into the model dir"
            )
        return cls.from_json(json.loads(path.read_text()))


def _role(name: str, data_type: str, meta: Mapping[str, Any] | None) -> Role:
    explicit = (meta or {}).get("ml_role")
    if explicit is not None:
        if explicit not in ROLES:
            raise ConfigError(f"column {name}: meta.ml_role={explicit!r} is not one of {', '.join(ROLES)}")
        return explicit
    lowered = name.lower()
    if lowered in ID_NAMES:
        return "id"
    if lowered in EVENT_TIME_NAMES:
        return "event_time"
    if lowered in LABEL_NAMES:
        return "label"
    base = data_type.lower().split("(")[0].strip()
    return "feature" if base in NUMERIC_TYPES else "ignored"


def columns_of(model: Mapping[str, Any]) -> tuple[Column, ...]:
    out = []
    for col in model.get("columns") or []:
        name = str(col["name"])
        data_type = str(col.get("data_type") or "")
        if not data_type:
            raise ConfigError(
                f"gold model {model.get('name')}: column {name} has no data_type in _gold.yml; "
                "every gold column needs one (it is the feature list's type)"
            )
        meta = col.get("meta") or (col.get("config") or {}).get("meta")
        out.append(Column(name, data_type, _role(name, data_type, meta), str(col.get("description") or "")))
    return tuple(out)


def load_models(path: Path = GOLD_SCHEMA) -> dict[str, tuple[Column, ...]]:
    """Columns of every model in a dbt schema file, by model name."""
    if not path.is_file():
        raise ConfigError(
            f"gold schema {path} not found; it is dbt's column docs for the gold models "
            "(dbt_project/models/gold/_gold.yml)"
        )
    document = yaml.safe_load(path.read_text()) or {}
    return {str(m["name"]): columns_of(m) for m in document.get("models") or []}


def spec_from_columns(columns: Iterable[Column], *, model: str, need_label: bool) -> FeatureSpec:
    cols = tuple(columns)

    def one(role: Role) -> str:
        names = [c.name for c in cols if c.role == role]
        if len(names) != 1:
            raise ConfigError(
                f"gold model {model}: expected exactly one {role} column, found {names or 'none'}; "
                f"set meta: {{ml_role: {role}}} on the right column in _gold.yml"
            )
        return names[0]

    features = tuple(c.name for c in cols if c.role == "feature")
    if not features:
        raise ConfigError(f"gold model {model}: no numeric feature columns in _gold.yml")
    return FeatureSpec(
        id_column=one("id"),
        event_time_column=one("event_time"),
        label_column=one("label") if need_label else "",
        features=features,
        columns=cols,
    )


def training_spec(path: Path = GOLD_SCHEMA) -> FeatureSpec:
    """Features of `churn_training_set`: what the model is trained on."""
    models = load_models(path)
    if TRAINING_MODEL not in models:
        raise ConfigError(
            f"{path} documents no model {TRAINING_MODEL}; models there: {', '.join(models) or 'none'}"
        )
    return spec_from_columns(models[TRAINING_MODEL], model=TRAINING_MODEL, need_label=True)


def feature_group_spec(path: Path = GOLD_SCHEMA) -> FeatureSpec:
    """Columns of `customer_features`: what the feature group stores (no label)."""
    models = load_models(path)
    if FEATURES_MODEL not in models:
        raise ConfigError(
            f"{path} documents no model {FEATURES_MODEL}; models there: {', '.join(models) or 'none'}"
        )
    return spec_from_columns(models[FEATURES_MODEL], model=FEATURES_MODEL, need_label=False)
