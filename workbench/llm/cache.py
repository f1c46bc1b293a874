"""The LLM response cache: keys, and a write-behind buffer in front of the workspace.

The key is a hash of (model, messages, parameters, base URL): everything that changes the
answer and nothing secret (never an API key; the base URL only in its redacted form, see
`redact`). Behind an OpenAI-compatible server the model string is only a name that server
interprets, so two servers with the same name are two models. Parameters are normalised
(sorted, None dropped) so that `temperature=0.7` spelled twice hashes once.

Replies are stored off the request path: `ReplyCache.put` queues the entry and one thread
per workspace writes whatever is queued in a single transaction, so 64 concurrent requests
cost one commit, not 64 serialised ones. Lookups see queued entries, and the workspace
flushes the queue before it closes. An entry lost to a kill only means asking again: the
job's own checkpoint, not the cache, is what a resumed job relies on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import weakref

# Bump when the shape of cached values changes.
CACHE_VERSION = 1
log = logging.getLogger(__name__)


def cache_key(model: str, messages: list[dict], params: dict, api_base: str | None = None) -> str:
    clean = {k: v for k, v in sorted(params.items()) if v is not None}
    turns = [{k: m[k] for k in sorted(m) if m[k] is not None} for m in messages]
    where = [api_base.rstrip("/")] if api_base else []  # keys without a base stay as they were
    raw = json.dumps([CACHE_VERSION, model, turns, clean, *where], sort_keys=True, ensure_ascii=False, default=str)
    return "llm:" + hashlib.sha256(raw.encode()).hexdigest()


class ReplyCache:
    """Write-behind cache over a workspace's `cache_get` / `cache_put_many`; one per workspace
    (`ReplyCache.of(ws)`), shared by every client using it, thread-safe."""

    _instances: "weakref.WeakKeyDictionary[object, ReplyCache]" = weakref.WeakKeyDictionary()
    _instances_lock = threading.Lock()

    def __init__(self, ws):
        self._ws = weakref.ref(ws)  # the workspace holds this cache, not the other way round
        self._pending: dict[str, dict] = {}
        self._writing: dict[str, dict] = {}  # taken from pending, not yet committed
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    @classmethod
    def of(cls, ws) -> "ReplyCache":
        with cls._instances_lock:
            cache = cls._instances.get(ws)
            if cache is None:
                cache = cls._instances[ws] = cls(ws)
                if hasattr(ws, "before_close"):
                    ws.before_close(cache.flush)
            return cache

    def get(self, key: str) -> dict | None:
        with self._cond:
            hit = self._pending.get(key) or self._writing.get(key)
        return hit if hit is not None else self._ws().cache_get(key)

    def put(self, key: str, value: dict) -> None:
        with self._cond:
            self._pending[key] = value
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="llm-cache-writer", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self) -> None:
        """Return once everything put so far is committed (or its write has failed)."""
        with self._cond:
            while self._pending or self._writing:
                self._cond.wait()

    def _run(self) -> None:
        """Write until nothing is queued, then end (the next `put` starts a new writer)."""
        while True:
            with self._cond:
                if not self._pending:
                    self._thread = None
                    return
                self._writing, self._pending = self._pending, {}
                batch = list(self._writing.items())
            try:
                ws = self._ws()
                if ws is None:
                    raise RuntimeError("workspace is gone")
                ws.cache_put_many(batch)
                del ws
            except Exception as e:  # noqa: BLE001 - a cache write failing costs a re-ask, never the job
                log.warning("LLM cache: %d replies not stored: %s", len(batch), e)
            with self._cond:
                self._writing = {}
                self._cond.notify_all()
