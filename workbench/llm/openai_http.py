"""Chat completions from an OpenAI-compatible server over httpx, as coroutines.

The path for `openai/NAME` with a base URL and `hosted_vllm/NAME` (vLLM, llama.cpp's server,
SGLang, TGI, LM Studio, a proxy...): one POST to `{api_base}/chat/completions` with the body
the OpenAI API documents, no SDK in between. Every request is bounded as a whole:

- `timeout` covers connecting, sending and reading the entire body (a server trickling a
  byte a second cannot hold a request for longer than that);
- the body is read in chunks and refused past `max_body_bytes(max_tokens, n)`, so a reply
  far beyond max_tokens costs a row error, not memory.

Errors come back as `LLMError`s that say whether a retry can help (timeouts, connection
failures, 408/409/429/5xx, malformed bodies) and how long the server asked to wait
(Retry-After, retry-after-ms).
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import asynccontextmanager

from workbench.llm.errors import LLMError, MalformedResponse, ReplyTooLarge, max_reply_chars

# provider prefix -> environment variables of its key and default base URL (litellm's names)
PROVIDERS = {
    "openai": ("OPENAI_API_KEY", None),
    "hosted_vllm": ("HOSTED_VLLM_API_KEY", "HOSTED_VLLM_API_BASE"),
}
ESCAPED_BYTES_PER_CHAR = 12  # an astral character written as two \uXXXX escapes
RETRYABLE_STATUS = frozenset({408, 409, 429})
POOL_SIZE = 16  # connections per httpx client (see Connections)


def handles(model: str, api_base: str | None) -> bool:
    """Whether this module serves `model`: an OpenAI-compatible server we can reach directly."""
    provider = model.split("/", 1)[0]
    if provider == "hosted_vllm":
        return True
    return provider == "openai" and bool(api_base)


def base_url(model: str, api_base: str | None) -> str:
    provider = model.split("/", 1)[0]
    url = api_base or os.environ.get(PROVIDERS[provider][1] or "", "")
    if not url:
        raise LLMError(f"{model}: no server: give --api-base (or set {PROVIDERS[provider][1]})")
    return url


def headers(model: str) -> dict[str, str]:
    """Request headers; the key, if the environment has one, is read here and nowhere kept."""
    key = os.environ.get(PROVIDERS[model.split("/", 1)[0]][0])
    return {"Authorization": f"Bearer {key}"} if key else {}


def endpoint(api_base: str) -> str:
    """`{api_base}/chat/completions`, keeping a query string (?api-version=..., ?key=...) at the end."""
    path, sep, query = api_base.partition("?")
    return path.rstrip("/") + "/chat/completions" + sep + query


def max_body_bytes(max_tokens: int | None, n: int | None) -> int:
    return 65_536 + ESCAPED_BYTES_PER_CHAR * max_reply_chars(max_tokens) * max(1, int(n or 1))


class Connections:
    """Keep-alive connections for `concurrency` requests at once, in httpx clients of at most
    `POOL_SIZE` connections each (make and use on the request loop).

    httpcore's pool looks at every connection it holds for each request it places (whether it
    expired, whether it is idle), so one pool of 64 connections spends more CPU placing
    requests than sending them: a loopback job at concurrency 64 was CPU-bound at a third of
    its ideal rate. A request takes the client with the fewest requests in flight; as a
    caller never has more than `concurrency` in flight, that client has a free connection.
    """

    def __init__(self, concurrency: int):
        import httpx

        n = -(-concurrency // POOL_SIZE)
        size = -(-concurrency // n)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        # timeouts are ours (one deadline per request), not httpx's per-phase ones
        self.clients = [httpx.AsyncClient(limits=limits, timeout=None, trust_env=False) for _ in range(n)]
        self.busy = [0] * n

    @asynccontextmanager
    async def client(self):
        i = min(range(len(self.clients)), key=self.busy.__getitem__)
        self.busy[i] += 1
        try:
            yield self.clients[i]
        finally:
            self.busy[i] -= 1

    async def aclose(self) -> None:
        for c in self.clients:
            await c.aclose()


async def chat(conns: Connections, model: str, api_base: str, body: dict, *, timeout: float) -> dict:
    """POST one chat completion; returns the parsed JSON body. Raises LLMError."""
    import httpx

    limit = max_body_bytes(body.get("max_tokens"), body.get("n"))
    payload = {**body, "model": model.split("/", 1)[1]}
    try:
        async with asyncio.timeout(timeout), conns.client() as http:
            async with http.stream("POST", endpoint(api_base), json=payload, headers=headers(model)) as resp:
                raw = await _read_capped(resp, limit)
    except TimeoutError:
        raise LLMError(f"no complete reply within {timeout:g} s", retryable=True) from None
    except httpx.HTTPError as e:  # connect, read, protocol errors (a truncated body is one)
        raise LLMError(f"{type(e).__name__}: {e}", retryable=True) from None
    if resp.status_code >= 400:
        raise LLMError(f"HTTP {resp.status_code}: {_error_message(raw)}",
                       retryable=resp.status_code >= 500 or resp.status_code in RETRYABLE_STATUS,
                       retry_after=retry_after(resp.headers))
    try:
        return json.loads(raw)
    except ValueError:
        raise MalformedResponse(f"malformed response: not JSON ({len(raw)} bytes: {raw[:80]!r})") from None


async def _read_capped(resp, limit: int) -> bytes:
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ReplyTooLarge(f"reply of {int(declared):,} bytes is far beyond max_tokens (at most {limit:,} expected)")
    chunks, size = [], 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ReplyTooLarge(f"reply of more than {limit:,} bytes is far beyond max_tokens; stopped reading")
        chunks.append(chunk)
    return b"".join(chunks)


def _error_message(raw: bytes) -> str:
    try:
        err = json.loads(raw).get("error")
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return str(msg)[:500]
    except (ValueError, AttributeError):
        pass
    return raw[:200].decode("utf-8", "replace") or "(no body)"


def retry_after(headers) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms / Retry-After in seconds), if it said."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except (TypeError, ValueError):
            continue  # an HTTP date: our own backoff instead
    return None
