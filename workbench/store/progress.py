"""A rich progress bar for CLI commands: rows read, or a job's JobEvents.

    with cli_progress("dedup", total=len(ds)) as bar:
        run_job(ws, "dedup", items, fn, on_event=bar.on_event)

`bar(n)` sets the count directly (the `progress=` callback of `Dataset.open`). The bar
draws on stderr, so stdout stays clean for `--json` output; rich is imported only here.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from workbench.terminal import exact


def duration(seconds: float | None) -> str:
    """A short duration for an ETA: "42s", "3m07s"; "–" when unknown."""
    if seconds is None:
        return "–"
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


class _Bar:
    def __init__(self, progress, task):
        self._p, self._task = progress, task

    def __call__(self, n: int) -> None:
        self._p.update(self._task, completed=n)

    def on_event(self, ev) -> None:
        """Show a JobEvent: done/total, ok/failed/skipped, rate, ETA (rich computes the ETA)."""
        self._p.update(
            self._task, completed=ev.done, total=ev.total,
            detail=f"ok {ev.ok}  failed {ev.failed}  skipped {ev.skipped}  {ev.rate:,.1f}/s"
            + ("" if ev.status == "running" else f"  [{ev.status}]"),
        )


@contextmanager
def cli_progress(description: str, total: int | None = None, *, console=None) -> Iterator[_Bar]:
    """A progress bar on stderr (or `console`, a rich Console); hidden when not a terminal."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    console = console or Console(file=exact(sys.stderr))  # its cursor moves are ours, not a row's
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        TextColumn("{task.fields[detail]}", markup=False),
        console=console, disable=not console.is_terminal,  # no bar noise in pipes and logs
    ) as p:
        yield _Bar(p, p.add_task(description, total=total, detail=""))
