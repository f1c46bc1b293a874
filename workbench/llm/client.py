"""One client for every chat model: litellm underneath, our own retries, a workspace cache.

    client = LLMClient("openai/gpt-4o-mini", cache=ws)           # key from OPENAI_API_KEY
    client = LLMClient("openai/any", api_base="http://127.0.0.1:8000/v1")   # any OpenAI-compatible server
    client = LLMClient()                                         # the embedded local/smollm2
    out = client.complete([{"role": "user", "content": "Hi"}])   # {"text", "texts", "usage", "cost", "cached"}

Why our own retry loop rather than litellm's: it must honour Retry-After, and it must also
retry bodies that parse into nonsense (no choices, no content), which litellm returns as a
success. litellm is imported on the first call, never at import time (it takes seconds and
would otherwise fetch a cost map from the network).

API keys are read by litellm from the environment and never pass through this module's
cache, logs or results.
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any, Callable

from workbench.llm.cache import cache_key
from workbench.llm.local import MODEL as LOCAL_MODEL
from workbench.llm.local import PROVIDER as LOCAL_PROVIDER

DEFAULT_MODEL = LOCAL_MODEL
MAX_RETRY_AFTER = 300.0  # a server asking for a longer pause gets an error instead


class LLMError(Exception):
    """A call that failed for good (after retries, or at once for non-retryable errors)."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class MalformedResponse(LLMError):
    def __init__(self, message: str):
        super().__init__(message, retryable=True)


_litellm = None
_litellm_lock = threading.Lock()


def litellm():
    """Import litellm once, offline and quiet, with the local provider registered."""
    global _litellm
    with _litellm_lock:
        if _litellm is None:
            os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import litellm as lib

            lib.suppress_debug_info = True
            lib.telemetry = False
            from workbench.llm.local import register

            register()
            _litellm = lib
        return _litellm


def classify(exc: BaseException) -> LLMError:
    """Turn whatever a call raised into an LLMError that says whether a retry can help."""
    if isinstance(exc, LLMError):
        return exc
    lib = litellm()
    name = type(exc).__name__
    msg = f"{name}: {exc}"
    if isinstance(exc, lib.RateLimitError):
        return LLMError(msg, retryable=True, retry_after=_retry_after(exc))
    if isinstance(exc, (lib.Timeout, lib.APIConnectionError, lib.InternalServerError,
                        lib.ServiceUnavailableError, lib.BadGatewayError)):
        return LLMError(msg, retryable=True, retry_after=_retry_after(exc))
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and (status >= 500 or status in (408, 409, 429)):
        return LLMError(msg, retryable=True, retry_after=_retry_after(exc))
    return LLMError(msg, retryable=False)


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), if it said."""
    for headers in (getattr(exc, "litellm_response_headers", None),
                    getattr(getattr(exc, "response", None), "headers", None)):
        if not headers:
            continue
        try:
            ms = headers.get("retry-after-ms")
            if ms is not None:
                return float(ms) / 1000
            s = headers.get("retry-after")
            if s is not None:
                return float(s)
        except (TypeError, ValueError):
            continue  # an HTTP date: fall back to our own backoff
    return None


class LLMClient:
    """Chat completions with caching, bounded concurrency, retries and usage accounting.

    `cache` is a Workspace (or anything with cache_get/cache_put); None disables caching.
    Thread-safe: a job's worker threads share one client, and at most `concurrency` calls
    are in flight at once.
    """

    def __init__(
        self,
        model: str | None = None,
        api_base: str | None = None,
        *,
        temperature: float = 0.7,
        max_tokens: int = 512,
        n: int = 1,
        concurrency: int = 8,
        cache=None,
        timeout: float = 120.0,
        retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
    ):
        self.model = model or DEFAULT_MODEL
        self.api_base = api_base
        self.defaults = {"temperature": temperature, "max_tokens": max_tokens, "n": n}
        self.cache = cache
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._lock = threading.Lock()
        self.usage = {"calls": 0, "cached": 0, "retries": 0, "prompt_tokens": 0, "completion_tokens": 0,
                      "cost": 0.0}

    @property
    def is_local(self) -> bool:
        return self.model.split("/", 1)[0] == LOCAL_PROVIDER

    def describe(self) -> dict:
        """What identifies this client in a recipe or provenance (never a key)."""
        return {"model": self.model, "api_base": self.api_base, **self.defaults}

    def complete(self, messages: list[dict], *, validate: Callable[[str], Any] | None = None,
                 **params: Any) -> dict:
        """One chat completion: {"text", "texts" (n of them), "usage", "cost", "cached"}.

        `params` override the client's defaults (temperature, max_tokens, n, seed, stop, ...).
        `validate(text)` raises when the caller cannot use a reply (a judge's reply without a
        rating): such a reply is not cached, so running the row again asks the model again.
        Raises LLMError when the call fails for good.
        """
        p = {**self.defaults, **{k: v for k, v in params.items() if v is not None}}
        key = cache_key(self.model, messages, p, self.api_base)
        if self.cache is not None:
            hit = self.cache.cache_get(key)
            if hit is not None and hit.get("texts") and _usable(validate, hit["text"]):
                self._count(cached=True)
                return {**hit, "cached": True}
        out = self._call_with_retries(messages, p)
        self._count(usage=out["usage"], cost=out["cost"])
        if validate is not None:
            validate(out["text"])
        if self.cache is not None:
            self.cache.cache_put(key, {k: out[k] for k in ("text", "texts", "usage", "cost", "model")})
        return {**out, "cached": False}

    def _count(self, *, cached: bool = False, usage: dict | None = None, cost: float = 0.0,
               retry: bool = False) -> None:
        with self._lock:
            if retry:
                self.usage["retries"] += 1
                return
            self.usage["calls"] += 1
            if cached:
                self.usage["cached"] += 1
                return
            self.usage["prompt_tokens"] += (usage or {}).get("prompt_tokens", 0)
            self.usage["completion_tokens"] += (usage or {}).get("completion_tokens", 0)
            self.usage["cost"] += cost

    def _call_with_retries(self, messages: list[dict], p: dict) -> dict:
        attempt = 0
        while True:
            try:
                with self._slots:
                    return self._call(messages, p)
            except Exception as e:  # noqa: BLE001 - classified below; non-retryable ones re-raised
                err = classify(e)
                if self.is_local and not isinstance(err, MalformedResponse):
                    err.retryable = False  # in-process: no network to recover, a retry fails the same way
            if not err.retryable or attempt >= self.retries:
                tries = f" after {attempt + 1} attempts" if attempt else ""
                raise LLMError(f"{self.model}: {err}{tries}", retryable=err.retryable) from None
            if err.retry_after is not None:
                if err.retry_after > MAX_RETRY_AFTER:
                    raise LLMError(f"{self.model}: server asks to retry after {err.retry_after:g} s: {err}")
                delay = err.retry_after + random.uniform(0, 0.1)
            else:  # exponential backoff with full jitter
                delay = random.uniform(0, min(self.max_backoff, self.backoff * 2 ** attempt))
            self._count(retry=True)
            time.sleep(delay)
            attempt += 1

    def _call(self, messages: list[dict], p: dict) -> dict:
        lib = litellm()
        # drop_params: a provider without `n` or `seed` answers anyway (best-of-n asks again)
        kw: dict[str, Any] = {"model": self.model, "messages": messages, "timeout": self.timeout,
                              "num_retries": 0, "max_retries": 0, "drop_params": True, **p}
        if self.api_base:
            kw["api_base"] = self.api_base
            if self.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
                kw["api_key"] = "none"  # a keyless local server; the SDK insists on some key
        if self.is_local:
            kw.pop("max_retries")  # not a parameter a custom provider understands
        resp = lib.completion(**kw)
        return _parse(resp, self.model, lib)


def _parse(resp, model: str, lib) -> dict:
    """Texts, usage and cost of a response; a body without usable choices is malformed."""
    choices = getattr(resp, "choices", None) or []
    texts = []
    for c in choices:
        msg = getattr(c, "message", None)
        content = getattr(msg, "content", None)
        if not isinstance(content, str):
            raise MalformedResponse(f"malformed response: choice {getattr(c, 'index', '?')} has no text content")
        texts.append(content)
    if not texts:
        raise MalformedResponse("malformed response: no choices")
    u = getattr(resp, "usage", None)
    usage = {"prompt_tokens": int(getattr(u, "prompt_tokens", 0) or 0),
             "completion_tokens": int(getattr(u, "completion_tokens", 0) or 0)}
    try:
        cost = float(lib.completion_cost(completion_response=resp) or 0.0)
    except Exception:  # noqa: BLE001 - models without a price (local, self-hosted) cost 0
        cost = 0.0
    return {"text": texts[0], "texts": texts, "usage": usage, "cost": cost, "model": model}


def _usable(validate: Callable[[str], Any] | None, text: str) -> bool:
    if validate is None:
        return True
    try:
        validate(text)
    except Exception:  # whatever the caller's check raises: the cached reply is not usable
        return False
    return True
