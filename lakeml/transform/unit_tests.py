"""When a build may leave dbt's unit tests out: they run the models' SQL on hand-made rows, never on the
lake, so their outcome can only change with the project's code (models, macros, tests, profiles) or the
dbt and Spark versions -- not with a new day of data. Each unit test costs a Spark job of its own (about
a fifth of a one-day build at default scale), so the daily build runs them only when that code changed.

The fingerprint of what they depend on is recorded (`<home>/dbt/unit_tests.json`, per target) after a
build in which every unit test ran and passed; a later build with the same fingerprint excludes them. A
build with `select` (e.g. `--select resource_type:unit_test`) or `--full-refresh` always runs what it
selects, and a failed unit test forgets the record, so the next build runs them again.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from lakeml.transform.project import PROFILES_DIR, PROJECT_DIR
from lakeml.transform.report import BuildReport

RECORD = "unit_tests.json"
IGNORED_DIRS = {"target", "logs", "dbt_packages"}
PACKAGES = ("dbt-core", "dbt-spark", "dbt-glue", "pyspark")


def fingerprint(target: str) -> str:
    """Hash of the project's files, profiles.yml, the dbt/Spark versions and the target's name."""
    digest = hashlib.sha256(target.encode())
    files = [
        p
        for p in PROJECT_DIR.rglob("*")
        if p.is_file() and not IGNORED_DIRS & set(p.relative_to(PROJECT_DIR).parts)
    ]
    for path in [*sorted(files), PROFILES_DIR / "profiles.yml"]:
        digest.update(
            path.name.encode() if path.parent == PROFILES_DIR else str(path.relative_to(PROJECT_DIR)).encode()
        )
        digest.update(path.read_bytes())
    for package in PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} absent".encode())
    return digest.hexdigest()


def record_path(results_dir: Path) -> Path:
    return results_dir.parent / RECORD


def passed_before(results_dir: Path, target: str, current: str) -> bool:
    """Whether every unit test passed in a build of `target` with this same fingerprint."""
    try:
        recorded = json.loads(record_path(results_dir).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(recorded, dict) and recorded.get(target, {}).get("fingerprint") == current


def remember(results_dir: Path, target: str, current: str, report: BuildReport) -> None:
    """Record the fingerprint when the build ran unit tests and all passed; forget it when one failed."""
    units = [n for n in report.nodes if n.resource_type == "unit_test"]
    if not units:
        return
    path = record_path(results_dir)
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    if all(n.status == "pass" for n in units):
        recorded[target] = {
            "fingerprint": current,
            "invocation_id": report.invocation_id,
            "unit_tests": len(units),
        }
    else:
        recorded.pop(target, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(recorded, indent=2, sort_keys=True))
