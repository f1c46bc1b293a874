"""The process's event loop for LLM requests, on a daemon thread of its own.

A job's worker threads call the client synchronously; each call becomes a coroutine on this
one loop, so N workers mean N requests in flight over keep-alive connections, not N threads
each blocked inside an HTTP library. Started on first use; a forked child starts its own.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import Future
from typing import Any, Coroutine

_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_lock = threading.Lock()


def loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=_loop.run_forever, name="llm-requests", daemon=True)
            _thread.start()
        return _loop


def submit(coro: Coroutine) -> Future:
    """Schedule `coro` on the loop; a concurrent Future of its result."""
    return asyncio.run_coroutine_threadsafe(coro, loop())


def run(coro: Coroutine) -> Any:
    """Run `coro` on the loop and wait for its result (from any thread but the loop's own)."""
    if threading.current_thread() is _thread:
        coro.close()
        raise RuntimeError("a blocking LLM call from the request loop itself would wait forever")
    return submit(coro).result()


def _forget() -> None:  # the child of a fork has no loop thread: let it start one
    global _loop, _thread, _lock
    _loop, _thread, _lock = None, None, threading.Lock()


os.register_at_fork(after_in_child=_forget)
