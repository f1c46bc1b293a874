"""A rich progress bar for CLI commands: rows read, or a job's JobEvents.

    with cli_progress("dedup", total=len(ds)) as bar:
        run_job(ws, "dedup", items, fn, on_event=bar.on_event)

`bar(n)` sets the count directly (the `progress=` callback of `Dataset.open`). The bar
draws on stderr, so stdout stays clean for `--json` output; rich is imported only here, and
only when stderr is a terminal.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from workbench.terminal import exact


def duration(seconds: float | None) -> str:
    """A short duration for an ETA: "42s", "3m07s"; "–" when unknown."""
    if seconds is None:
        return "–"
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


class Throttle:
    """Calls `fn(*args)` at most once every `interval` seconds, from any thread. A call held
    back is not lost: the latest one is made when the interval has passed (on a timer thread),
    so a count that stops changing (4 rows finishing at once, then a minute of nothing) still
    shows its last value. `now(...)` calls at once (a stage's first count, the end); with
    `last=True` nothing held back or later is called after it. Calls never overlap."""

    def __init__(self, interval: float, fn: Callable[..., None]):
        self.interval, self.fn = interval, fn
        self._lock = threading.RLock()
        self._last = float("-inf")
        self._held: tuple | None = None
        self._timer: threading.Timer | None = None
        self._closed = False

    def __call__(self, *args) -> None:
        with self._lock:
            if self._closed:
                return
            wait = self._last + self.interval - time.monotonic()
            if wait <= 0:
                self._call(args)
                return
            self._held = args
            if self._timer is None:
                self._timer = threading.Timer(wait, self._release)
                self._timer.daemon = True
                self._timer.start()

    def now(self, *args, last: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._held = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._closed = last
            self._call(args)

    def _release(self) -> None:
        with self._lock:
            self._timer = None
            if self._held is not None and not self._closed:
                args, self._held = self._held, None
                self._call(args)

    def _call(self, args: tuple) -> None:
        self._last = time.monotonic()
        self.fn(*args)


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


class _NoBar:
    """What a bar nobody sees does: nothing (and no rich to import)."""

    def __call__(self, n: int) -> None:
        pass

    def on_event(self, ev) -> None:
        pass


@contextmanager
def cli_progress(description: str, total: int | None = None, *, console=None) -> Iterator[_Bar | _NoBar]:
    """A progress bar on stderr (or `console`, a rich Console); hidden when not a terminal."""
    if console is None and not sys.stderr.isatty():  # a pipe or a log: rich is not even imported
        yield _NoBar()
        return
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
