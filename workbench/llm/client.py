"""One client for every chat model: concurrent requests, retries, a workspace cache.

    client = LLMClient("openai/any", api_base="http://127.0.0.1:8000/v1")   # any OpenAI-compatible server
    client = LLMClient("hosted_vllm/Qwen/Qwen3-8B", api_base="http://gpu:8000/v1")
    client = LLMClient("anthropic/claude-sonnet-4-5", cache=ws)            # anything else litellm knows
    client = LLMClient()                                                    # the embedded local/smollm2
    out = client.complete([{"role": "user", "content": "Hi"}])  # {"text", "texts", "usage", "cost", "cached"}

`complete` is synchronous and thread-safe: a job's worker threads share one client. Each call
runs as a coroutine on one event loop (`aio`), at most `concurrency` at once, by one of
three routes:

- OpenAI-compatible servers (`openai/...` with a base URL, `hosted_vllm/...`): httpx
  directly (`openai_http`), keep-alive connections, no SDK, no litellm;
- the embedded model (`local/...`): its batcher (`local`), no litellm either;
- any other provider: litellm's async API. litellm is imported once, on a thread of its own
  as soon as such a client is made, never at module top (it takes seconds, and needs
  LITELLM_LOCAL_MODEL_COST_MAP or it fetches a cost map from the network).

Retries (tenacity) cover timeouts, connection errors, 429 and 5xx, and bodies that parse into
nonsense (no choices, no content), with exponential backoff and full jitter, or exactly the
pause the server asked for (Retry-After). `timeout` bounds a whole request; a reply far
beyond max_tokens is an error (`errors.ReplyTooLarge`).

Caching: replies are keyed by (model, messages, parameters, redacted base URL) and written
behind the requests (`cache.ReplyCache`). A caller's `validate(text)` decides whether a
reply is usable; one that fails is never cached, so a re-run asks the model again.

Secrets: API keys come from the environment and never reach the cache, results or errors;
credentials inside a base URL are redacted (`redact`) wherever the URL is kept or shown.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
from concurrent.futures import Future
from typing import Any, Callable

from workbench.llm import aio, openai_http
from workbench.llm.cache import ReplyCache, cache_key
from workbench.llm.errors import LLMError, MalformedResponse, ReplyTooLarge, check_size, parse_completion
from workbench.llm.local import MODEL as LOCAL_MODEL
from workbench.llm.local import PROVIDER as LOCAL_PROVIDER
from workbench.llm.redact import redact_url, scrub
from workbench.ops.oprun import Cancelled

__all__ = ["DEFAULT_MODEL", "LLMClient", "LLMError", "MalformedResponse", "ReplyTooLarge"]

DEFAULT_MODEL = LOCAL_MODEL
MAX_RETRY_AFTER = 300.0  # a server asking for a longer pause gets an error instead

_litellm: Future | None = None
_litellm_lock = threading.Lock()


def _import_litellm():
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import litellm as lib

    lib.suppress_debug_info = True
    lib.telemetry = False
    return lib


def litellm_future() -> Future:
    """litellm, imported once per process on a thread of its own (started by the first caller)."""
    global _litellm
    with _litellm_lock:
        if _litellm is None:
            _litellm = Future()
            fut = _litellm

            def load() -> None:
                try:
                    fut.set_result(_import_litellm())
                except BaseException as e:  # noqa: BLE001 - raised to whoever waits
                    fut.set_exception(e)

            threading.Thread(target=load, name="import-litellm", daemon=True).start()
        return _litellm


class LLMClient:
    """Chat completions with caching, bounded concurrency, retries and usage accounting.

    `cache` is a Workspace (or anything with cache_get / cache_put_many); None disables
    caching. `refresh=True` asks the model even when a reply is cached (and stores the new
    one). `timeout` is seconds per request, whole; `retries` how many times a retryable
    failure is tried again; `backoff` / `max_backoff` the exponential backoff's base and cap.
    `cancel`: an Event that, once set, makes calls to the embedded model fail with Cancelled
    within one token (workbench.llm.local); a job's cancel event.
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
        refresh: bool = False,
        timeout: float = 120.0,
        retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        cancel: threading.Event | None = None,
    ):
        self.model = model or DEFAULT_MODEL
        self._api_base = api_base  # as given, credentials and all: only requests see it
        self.api_base = redact_url(api_base)
        self.defaults = {"temperature": temperature, "max_tokens": max_tokens, "n": n}
        self.cache = ReplyCache.of(cache) if cache is not None else None
        self.refresh = refresh
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.concurrency = max(1, concurrency)
        self.cancel = cancel
        self._slots: asyncio.Semaphore | None = None
        self._http = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.usage = {"calls": 0, "cached": 0, "retries": 0, "prompt_tokens": 0, "completion_tokens": 0,
                      "cost": 0.0}
        if self.route == "litellm":
            litellm_future()  # start the import now, while the caller reads its data

    @property
    def route(self) -> str:
        """"local", "http" (OpenAI-compatible, httpx) or "litellm"."""
        if self.model.split("/", 1)[0] == LOCAL_PROVIDER:
            return "local"
        return "http" if openai_http.handles(self.model, self._api_base) else "litellm"

    @property
    def is_local(self) -> bool:
        return self.route == "local"

    def describe(self) -> dict:
        """What identifies this client in a recipe or provenance (never a key or a credential)."""
        return {"model": self.model, "api_base": self.api_base, **self.defaults}

    def complete(self, messages: list[dict], *, validate: Callable[[str], Any] | None = None,
                 **params: Any) -> dict:
        """One chat completion: {"text", "texts" (n of them), "usage", "cost", "cached"}.

        `params` override the client's defaults (temperature, max_tokens, n, seed, stop, ...).
        `validate(text)` raises when the caller cannot use a reply (a judge's reply without a
        rating, a rewrite that fails its check): that exception is raised here and the reply
        is not cached, so running the row again asks the model again (a cached reply that
        fails it is asked again at once). Raises LLMError when the call fails for good.
        """
        p = {**self.defaults, **{k: v for k, v in params.items() if v is not None}}
        key = cache_key(self.model, messages, p, self.api_base)
        if self.cache is not None and not self.refresh:
            hit = self.cache.get(key)
            if hit is not None and hit.get("texts") and _usable(validate, hit["text"]):
                self._count(cached=True)
                return {**hit, "cached": True}
        out = aio.run(self._request(messages, p))
        self._count(usage=out["usage"], cost=out["cost"])
        if validate is not None:
            validate(out["text"])
        if self.cache is not None:
            self.cache.put(key, {k: out[k] for k in ("text", "texts", "usage", "cost", "model")})
        return {**out, "cached": False}

    def close(self) -> None:
        """Store pending cache writes and close the connections (the client stays usable)."""
        if self.cache is not None:
            self.cache.flush()
        if self._http is not None and self._http_loop is aio.loop():
            aio.run(self._http.aclose())
        self._http = None

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

    # -- on the request loop -------------------------------------------------------------

    async def _request(self, messages: list[dict], p: dict) -> dict:
        """The call with retries; an LLMError naming the model (and attempts) when it fails for good."""
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

        jitter = wait_random_exponential(multiplier=self.backoff, max=self.max_backoff)

        def wait(state) -> float:
            err = state.outcome.exception()
            if err.retry_after is not None:
                return err.retry_after + random.uniform(0, 0.1)
            return jitter(state)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1), wait=wait, reraise=True,
            retry=retry_if_exception(lambda e: isinstance(e, LLMError) and e.retryable),
            before_sleep=lambda state: self._count(retry=True))
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async for attempt in retrying:
            with attempt:
                try:
                    async with self._slots:
                        return await self._call(messages, p)
                except LLMError as err:
                    n = attempt.retry_state.attempt_number
                    if err.retryable and n <= self.retries:
                        raise  # tenacity waits and tries again
                    tries = f" after {n} attempts" if n > 1 else ""
                    raise LLMError(f"{self.model}: {scrub(str(err), self._api_base)}{tries}",
                                   retryable=err.retryable) from None

    async def _call(self, messages: list[dict], p: dict) -> dict:
        """One attempt: a parsed reply with its cost, or an LLMError saying if a retry can help."""
        try:
            if self.route == "local":
                out = await self._call_local(messages, p)
            elif self.route == "http":
                data = await openai_http.chat(self._client(), self.model,
                                              openai_http.base_url(self.model, self._api_base),
                                              {"messages": messages, **p}, timeout=self.timeout)
                out = {**parse_completion(data, self.model), "cost": 0.0}  # self-hosted: no price list
            else:
                out = await self._call_litellm(messages, p)
        except LLMError as err:
            if err.retry_after is not None and err.retry_after > MAX_RETRY_AFTER:
                raise LLMError(f"server asks to retry after {err.retry_after:g} s: {err}") from None
            raise
        check_size(out["texts"], p.get("max_tokens"))
        return out

    def _client(self):
        if self._http is None or self._http_loop is not aio.loop():
            self._http, self._http_loop = openai_http.Connections(self.concurrency), aio.loop()
        return self._http

    async def _call_local(self, messages: list[dict], p: dict) -> dict:
        from workbench.llm.local import batcher

        if self.model.split("/")[-1] != "smollm2":
            raise LLMError(f"unknown local model {self.model!r}; the embedded one is {LOCAL_MODEL!r}")
        try:
            gen = await asyncio.wrap_future(batcher().submit(
                [{"role": m["role"], "content": m.get("content") or ""} for m in messages],
                max_tokens=int(p.get("max_tokens") or 256),
                temperature=float(p["temperature"] if p.get("temperature") is not None else 0.0),
                top_p=float(p.get("top_p") or 1.0), n=int(p.get("n") or 1), seed=p.get("seed"),
                cancel=self.cancel))
        except Cancelled:
            raise
        except Exception as e:  # in-process: no network to recover, a retry fails the same way
            raise LLMError(f"{type(e).__name__}: {e}") from None
        usage = {"prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens}
        return {"text": gen.texts[0], "texts": gen.texts, "usage": usage, "cost": 0.0, "model": LOCAL_MODEL}

    async def _call_litellm(self, messages: list[dict], p: dict) -> dict:
        lib = await asyncio.wrap_future(litellm_future())
        # drop_params: a provider without `n` or `seed` answers anyway (best-of-n asks again)
        kw: dict[str, Any] = {"model": self.model, "messages": messages, "num_retries": 0, "max_retries": 0,
                              "drop_params": True, "timeout": self.timeout, **p}
        if self._api_base:
            kw["api_base"] = self._api_base
        try:
            async with asyncio.timeout(self.timeout):
                resp = await lib.acompletion(**kw)
        except TimeoutError:
            raise LLMError(f"no complete reply within {self.timeout:g} s", retryable=True) from None
        except Exception as e:  # noqa: BLE001 - classified: retryable or not
            raise _classify(lib, e) from None
        out = parse_completion(resp.model_dump() if hasattr(resp, "model_dump") else resp, self.model)
        try:
            out["cost"] = float(lib.completion_cost(completion_response=resp) or 0.0)
        except Exception:  # noqa: BLE001 - models without a price cost 0
            out["cost"] = 0.0
        return out


def _classify(lib, exc: BaseException) -> LLMError:
    """Turn whatever litellm raised into an LLMError that says whether a retry can help."""
    msg = f"{type(exc).__name__}: {exc}"
    headers = getattr(exc, "litellm_response_headers", None) or getattr(getattr(exc, "response", None), "headers", None)
    wait = openai_http.retry_after(headers)
    if isinstance(exc, (lib.RateLimitError, lib.Timeout, lib.APIConnectionError, lib.InternalServerError,
                        lib.ServiceUnavailableError, lib.BadGatewayError)):
        return LLMError(msg, retryable=True, retry_after=wait)
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and (status >= 500 or status in openai_http.RETRYABLE_STATUS):
        return LLMError(msg, retryable=True, retry_after=wait)
    return LLMError(msg, retryable=False)


def _usable(validate: Callable[[str], Any] | None, text: str) -> bool:
    if validate is None:
        return True
    try:
        validate(text)
    except Exception:  # whatever the caller's check raises: the cached reply is not usable
        return False
    return True
