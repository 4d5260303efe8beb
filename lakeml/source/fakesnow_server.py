"""Entry point of the local Snowflake process: fakesnow's HTTP server over DuckDB files that persist.

fakesnow's own `-s` server keeps data in memory (its `-d` flag only applies to patch mode), so a restart
would lose the source. This launcher gives the server's shared instance a `db_path` under LAKEML_HOME.
Run as `python -m lakeml.source.fakesnow_server --db-path DIR --port P`.
"""

from __future__ import annotations

import argparse
import signal
import sys


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
