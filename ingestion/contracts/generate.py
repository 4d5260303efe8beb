"""`python -m ingestion.contracts.generate [--check]`: write (or verify) the committed GX suites.

Run it after changing `ingestion/schema.py`: it writes `suites/raw/<table>.json` (the raw tables) and
`suites/extract/<table>.json` (the extraction views). `--check` writes nothing and exits 1 when a file is out of
date, missing or stale (CI and `tests/ingestion/test_contracts.py` use the same comparison).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingestion.contracts.suites import SUITES_DIR, expected_files


def out_of_date() -> list[Path]:
    """Suite files that differ from what schema.py generates, plus stale files of removed tables."""
    wanted = expected_files()
    differing = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    stale = [p for p in sorted(SUITES_DIR.rglob("*.json")) if p not in wanted]
    return differing + stale


def write() -> list[Path]:
    """Write every suite and remove those of tables no longer in schema.py; return the changed files."""
    changed = out_of_date()
    wanted = expected_files()
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in SUITES_DIR.rglob("*.json"):
        if path not in wanted:
            path.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion.contracts.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="verify only; exit 1 if any file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = out_of_date()
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        if stale:
            print("run `python -m ingestion.contracts.generate` and commit the suites", file=sys.stderr)
        return 1 if stale else 0
    changed = write()
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(expected_files())} suites in {SUITES_DIR} ({len(changed)} changed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
