"""Rich progress on stderr for long work, as a plain callback the library code can call.

Library functions take `progress: ProgressFn | None` and call `progress(task, done, total)`; they never
import Rich. With `--json` (or when stderr is not a terminal) the bars stay quiet but work continues.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from lakeml.cli.output import err_console

ProgressFn = Callable[[str, int, int], None]


@contextlib.contextmanager
def progress_bars(enabled: bool = True) -> Iterator[ProgressFn]:
    if not enabled:
        yield lambda _task, _done, _total: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def update(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bars.add_task(task, total=total)
            bars.update(tasks[task], completed=done, total=total)

        yield update
