"""The Snowflake extraction views are rebuilt only when what they are made of changed.

A view is a stored query: once built, new rows in RAW flow through it without a rebuild, so the daily
run need not spend a dbt invocation (about 10 s locally) re-creating five identical views. A rebuild
is needed only when
- their definitions change: the snowflake models, the macros and generic tests, `dbt_project.yml`,
  `profiles.yml`, the dbt-core/dbt-snowflake versions, the target and database (`definitions_digest`);
- the source schema changes: the columns of RAW, what the views select from (`schema_digest`);
- the views in the source are not the ones the last build made: dropped, replaced by another checkout,
  or the twin was reset (each view's definition text as the source reports it, `views_in_source`).

After a successful build the digests and the views' definitions are recorded in
`<home>/dbt/extraction_views.json` (per target, beside the dbt target path); a build that fails forgets
the record, so the next run builds again. `force` (`lakeml transform --snowflake --full-refresh`)
rebuilds regardless. The check is two information_schema queries on the source connection.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from lakeml.transform import project
from lakeml.transform.report import BuildReport
from lakeml.transform.runner import ProgressFn, build_extraction_views
from lakeml.transform.targets.port import DbtProfile, TransformTarget

RECORD = "extraction_views.json"
VIEW_INPUTS = ("models/snowflake", "macros", "tests/generic", "dbt_project.yml")  # under the dbt project
PACKAGES = ("dbt-core", "dbt-snowflake")
SOURCE_SCHEMA = "RAW"  # what the views select from (models/snowflake/_snowflake.yml, source `raw`)
VIEWS_SCHEMA = "EXTRACT"  # where they are built (dbt_project.yml: +schema: extract)
DATABASE_VARIABLE = "LAKEML_SOURCE__DATABASE"
IDENTITY_VARIABLES = ("LAKEML_SOURCE__ACCOUNT", DATABASE_VARIABLE)  # which Snowflake the views live in

Status = Literal["rebuilt", "unchanged"]


@dataclass
class ViewsOutcome:
    """What `ensure_extraction_views` did, and why."""

    status: Status
    reason: str
    views: list[str]
    report: BuildReport

    def to_json(self) -> dict[str, Any]:
        return {
            **self.report.to_json(),
            "views": self.status,
            "reason": self.reason,
            "view_names": self.views,
        }

    @property
    def summary(self) -> str:
        if self.status == "unchanged":
            return f"{len(self.views)} extraction views unchanged ({self.reason})"
        return f"{self.report.models} extraction views built in the source ({self.reason})"


@dataclass(frozen=True)
class Fingerprint:
    definitions: str
    schema: str
    views: dict[str, str] = field(default_factory=dict)  # view name -> digest of its definition text


def definitions_digest(profile: DbtProfile) -> str:
    """Hash of the files the views are built from, the dbt versions, and the target, account and
    database (never host, port or credentials: the twin's port changes from start to start)."""
    root = project.PROJECT_DIR
    files: list[tuple[str, Path]] = []
    for name in VIEW_INPUTS:
        path = root / name
        found = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        files += [(str(p.relative_to(root)), p) for p in found]
    files.append(("profiles.yml", project.PROFILES_DIR / "profiles.yml"))
    where = [profile.target, *(profile.environment.get(v, "") for v in IDENTITY_VARIABLES)]
    digest = hashlib.sha256("|".join(where).encode())
    for label, path in files:
        digest.update(label.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<absent>")
    for package in PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} absent".encode())
    return digest.hexdigest()


def _rows(connection: Any, sql: str, params: dict[str, str]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def schema_digest(connection: Any, database: str) -> str:
    """Hash of the source tables' columns: name, position, type, precision, scale, length, nullability."""
    rows = _rows(
        connection,
        f"SELECT table_name, column_name, ordinal_position, data_type, numeric_precision, numeric_scale, "
        f"character_maximum_length, is_nullable FROM {database}.information_schema.columns "
        "WHERE table_schema = %(schema)s ORDER BY table_name, ordinal_position",
        {"schema": SOURCE_SCHEMA},
    )
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def views_in_source(connection: Any, database: str) -> dict[str, str]:
    """The views of the extraction schema, each with a digest of its definition as the source keeps it."""
    rows = _rows(
        connection,
        f"SELECT table_name, view_definition FROM {database}.information_schema.views "
        "WHERE table_schema = %(schema)s ORDER BY table_name",
        {"schema": VIEWS_SCHEMA},
    )
    return {str(name): hashlib.sha256(str(text or "").encode()).hexdigest() for name, text in rows}


def record_path(target: TransformTarget) -> Path:
    return target.results_dir.parent / RECORD


def recorded(target: TransformTarget, name: str) -> Fingerprint | None:
    try:
        document = json.loads(record_path(target).read_text()).get(name)
        return Fingerprint(document["definitions"], document["schema"], dict(document["views"]))
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return None


def remember(target: TransformTarget, name: str, fingerprint: Fingerprint | None) -> None:
    path = record_path(target)
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        document = {}
    if not isinstance(document, dict):
        document = {}
    if fingerprint is None:
        document.pop(name, None)
    else:
        document[name] = {
            "definitions": fingerprint.definitions,
            "schema": fingerprint.schema,
            "views": fingerprint.views,
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True))


def why_rebuild(before: Fingerprint | None, now: Fingerprint, force: bool) -> str | None:
    """The reason the views must be built, or None when they are as the last build left them."""
    if force:
        return "rebuild forced"
    if before is None:
        return "no earlier build recorded"
    changed = [
        what
        for what, differs in (
            ("view definitions changed", before.definitions != now.definitions),
            ("source schema changed", before.schema != now.schema),
            ("views in the source differ from the last build", before.views != now.views),
        )
        if differs
    ]
    return "; ".join(changed) or None


def ensure_extraction_views(
    target: TransformTarget,
    connect: Callable[[], Any],
    *,
    force: bool = False,
    progress: ProgressFn | None = None,
) -> ViewsOutcome:
    """Build the extraction views (`build_extraction_views`) when `why_rebuild` gives a reason; else
    leave them. `connect()` gives a DB-API connection to the source the views live in."""
    started = time.monotonic()
    profile = target.extraction_views()
    database = profile.environment.get(DATABASE_VARIABLE) or "RETAIL"
    connection = connect()
    definitions = definitions_digest(profile)
    now = Fingerprint(definitions, schema_digest(connection, database), views_in_source(connection, database))
    reason = why_rebuild(recorded(target, profile.target), now, force)
    if reason is None:
        report = BuildReport(target=profile.target, seconds=time.monotonic() - started)
        return ViewsOutcome(
            "unchanged", "definitions and source schema as at the last build", _names(now.views), report
        )
    remember(target, profile.target, None)  # a build that fails half-way must not look done
    report = build_extraction_views(target, progress=progress)
    if report.success and not report.failed:
        built = Fingerprint(definitions, now.schema, views_in_source(connection, database))
        remember(target, profile.target, built)
        return ViewsOutcome("rebuilt", reason, _names(built.views), report)
    return ViewsOutcome("rebuilt", reason, _names(now.views), report)


def _names(views: Iterable[str]) -> list[str]:
    return sorted(views)
