"""A processing job for runner tests: copies its input, writes a report, can fail or crash on demand."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
from pathlib import Path


def main() -> int:
    root = os.environ.get("LAKEML_CONTAINER__OPT_ML", "/opt/ml")
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default=f"{root}/processing/input")
    parser.add_argument("--output", default=f"{root}/processing/output")
    parser.add_argument("--report", default=f"{root}/processing/report")
    parser.add_argument("--score", type=float, default=0.9)
    parser.add_argument("--fail", action="store_true")
    parser.add_argument("--crash-once", default="", help="marker file: SIGKILL self unless it exists")
    parser.add_argument("--count", default="", help="file counting how many times the job ran")
    args = parser.parse_args()
    if args.count:
        path = Path(args.count)
        path.write_text(str(int(path.read_text() or 0) + 1 if path.exists() else 1))
    if args.crash_once and not Path(args.crash_once).exists():
        Path(args.crash_once).write_text("crashed")
        os.kill(os.getpid(), signal.SIGKILL)
    if args.fail:
        print("something went wrong in the job", file=sys.stderr)
        return 3
    assert args.input.startswith(os.environ["LAKEML_CONTAINER__OPT_ML"]), "paths under /opt/ml must be mapped"
    out = Path(args.output)
    for item in Path(args.input).iterdir():
        shutil.copy2(item, out / item.name)
    Path(args.report, "evaluation.json").write_text(json.dumps({"metrics": {"auc": {"value": args.score}}}))
    print(f"processed {len(list(out.iterdir()))} files")
    print(f"pid={os.getpid()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
