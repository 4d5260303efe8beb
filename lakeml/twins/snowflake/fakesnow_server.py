"""Entry point of the local Snowflake process: fakesnow's HTTP server over DuckDB files that persist.

fakesnow's own `-s` server keeps data in memory (its `-d` flag only applies to patch mode), so a restart
would lose the source. This launcher gives the server's shared instance a `db_path` under LAKEML_HOME.
Run as `python -m lakeml.twins.snowflake.fakesnow_server --db-path DIR --port P`.
"""

from __future__ import annotations

import argparse
import signal
import sys


def _keep_null_timestamps() -> None:
    """fakesnow 0.12 sends NULL timestamps as epoch 0 (its Arrow struct has no validity mask), so a NULL
    RESOLVED_AT would reach bronze as 1970-01-01. Real Snowflake sends NULL: give the struct the mask."""
    import pyarrow as pa
    from fakesnow import arrow

    original = arrow.timestamp_to_sf_struct

    def with_nulls(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
        struct = original(ts)
        array = ts.combine_chunks() if isinstance(ts, pa.ChunkedArray) else ts
        if array.null_count == 0:
            return struct
        return pa.StructArray.from_arrays(struct.flatten(), fields=list(struct.type), mask=array.is_null())

    arrow.timestamp_to_sf_struct = with_nulls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db-path", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    import importlib

    import uvicorn
    from fakesnow.instance import FakeSnow

    # `fakesnow.server` is also a function in fakesnow's __init__; import the module by name.
    _keep_null_timestamps()
    fakesnow_server = importlib.import_module("fakesnow.server")
    fakesnow_server.shared_fs = FakeSnow(db_path=args.db_path)  # type: ignore[attr-defined]
    server = uvicorn.Server(
        uvicorn.Config(fakesnow_server.app, host=args.host, port=args.port, log_level="warning")
    )

    def _stop(_signum: int, _frame: object) -> None:
        server.should_exit = True

    signal.signal(signal.SIGTERM, _stop)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
