"""The twin's process: `python -m lakeml.twins.glue.server --lake … --state-dir … --port …`.

Starts ONE local Spark (Hive catalog in Derby and warehouse under the state dir, sized like the local
target), then answers on 127.0.0.1 (`protocol.py`). It listens only once Spark is up, so "answers" means
"ready" to the lifecycle (`lifecycle.py`). Like a Glue session's idle timeout, it exits by itself after
`--idle-timeout-s` without a request and with no statement running.
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lakeml.twins.glue.api import GlueApi
from lakeml.twins.glue.paths import LakeMap
from lakeml.twins.glue.protocol import handler_for
from lakeml.twins.glue.sessions import thread_stdout

SHIM = Path(__file__).resolve().parent / "shim"  # `awsglue` for the statements' imports


def spark_session(args: argparse.Namespace) -> Any:
    from pyspark.sql import SparkSession

    state = Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    java_options = (
        f"{args.jit_options} -Dderby.system.home={state} -Dderby.stream.error.file={state}/derby.log"
    )
    confs = {
        "spark.master": f"local[{args.cores}]",
        "spark.app.name": "lakeml-glue-twin",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(state / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={state}/metastore_db;create=true",
        "spark.driver.extraJavaOptions": java_options.strip(),
        "spark.driver.memory": args.driver_memory,
        "spark.sql.shuffle.partitions": str(args.shuffle_partitions),
        "spark.default.parallelism": str(args.cores),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        # Glue 5.0 (Spark 3.5) sessions: dynamic partition overwrite is set by dbt-glue's profile `conf`
    }
    builder = SparkSession.builder
    for key, value in confs.items():
        builder = builder.config(key, value)
    return builder.enableHiveSupport().getOrCreate()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lake", required=True, help="the lake folder s3://<bucket>/ maps to")
    parser.add_argument("--bucket", action="append", default=[], help="a lake bucket name (repeatable)")
    parser.add_argument("--state-dir", required=True, help="Spark's metastore and warehouse")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--shuffle-partitions", type=int, default=4)
    parser.add_argument("--jit-options", default="")
    parser.add_argument("--idle-timeout-s", type=float, default=900.0)
    args = parser.parse_args(argv)

    import sys

    sys.path.insert(0, str(SHIM))
    thread_stdout()
    spark = spark_session(args)
    api = GlueApi(spark, LakeMap.create(Path(args.lake), args.bucket))
    server = ThreadingHTTPServer((args.host, args.port), handler_for(api))
    server.daemon_threads = True

    def watch_idle() -> None:
        while True:
            time.sleep(5)
            if not api.busy and time.monotonic() - api.last_request > args.idle_timeout_s:
                server.shutdown()
                return

    threading.Thread(target=watch_idle, name="idle-timeout", daemon=True).start()
    print(f"lakeml glue twin on http://{args.host}:{args.port} (lake {args.lake})", flush=True)
    try:
        server.serve_forever()
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
