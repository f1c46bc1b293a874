"""Waiting in tests that drive a real program (tmux, a browser): poll a condition until it
holds. The deadline is there to fail instead of hanging; it measures no speed."""

from __future__ import annotations

import time
from typing import Callable


def wait_for(predicate: Callable[[], object], what: str, *, show: Callable[[], str] = lambda: "",
             limit: float = 120.0, step: float = 0.3):
    """The first true value of `predicate()`, polled every `step` seconds; AssertionError
    naming `what` (and `show()`, e.g. the screen) after `limit` seconds."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"gave up waiting for {what}; screen:\n{show()}")
