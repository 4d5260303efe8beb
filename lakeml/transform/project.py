"""Where the dbt project and its profiles are: in the source checkout lakeml runs from."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "dbt_project"
PROFILES_DIR = REPO_ROOT / "profiles"
SPARK_CONF_DIR = PROFILES_DIR / "spark"  # log4j2.properties of the local Spark: errors only
