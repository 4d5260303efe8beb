"""The runner tests' toy processing job, held until a gate file exists: lets a browser test watch a step
that is still Executing, then release it (no fixed sleep: the job waits on the file, with a deadline)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.ml_pipelines.runner.jobs import toy_process

DEADLINE_S = 120.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gate", required=True)
    args, rest = parser.parse_known_args()
    deadline = time.monotonic() + DEADLINE_S
    while not Path(args.gate).exists():
        if time.monotonic() > deadline:
            print(f"gate {args.gate} never opened", file=sys.stderr)
            return 4
        time.sleep(0.05)
    sys.argv = [sys.argv[0], *rest]
    return toy_process.main()


if __name__ == "__main__":
    sys.exit(main())
