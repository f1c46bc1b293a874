"""A small OpenAI-compatible chat server on 127.0.0.1, with fault injection.

Used by the LLM tests and the LLM benchmark: it answers `POST /v1/chat/completions`, counts
requests per prompt, can add latency, and plays a script of faults per prompt before
answering normally:

    hang       no reply until `hang_seconds` pass (a client timeout)
    429        rate limited, with Retry-After: `retry_after`
    500        internal error
    400        a request no retry can fix
    truncated  promises the whole body, sends half, hangs up
    malformed  a body that is not JSON
    no_choices a JSON body without choices
    trickle    the right reply, one byte every `trickle_interval` seconds
    huge       a reply whose content is `huge_bytes` long (far beyond any max_tokens)

It is an asyncio server on its own thread (HTTP/1.1 keep-alive, a backlog of 1024), so
hundreds of concurrent connections each wait out the latency at the same time. `reply`
callbacks run in a thread pool: one may block (a test holding a request back) without
stalling the others (`reply_in_thread=False` calls a quick one on the loop instead). `python -m tests.support.loopback --latency 0.2` serves from its own
process (the benchmark's server, which then shares no GIL with the client measured) and
prints its base URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

FAULTS = ("ok", "hang", "429", "500", "truncated", "malformed", "no_choices", "400", "trickle", "huge")
BACKLOG = 1024


def echo(messages: list[dict]) -> str:
    """Default reply: names the last user turn, so a test can tell answers apart."""
    return f"Answer: {prompt_key(messages)}"


def prompt_key(messages: list[dict]) -> str:
    """What a fault script and the request counter key on: the last user turn."""
    return next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")


def _reason(status: int) -> str:
    return {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error"}.get(status, "Status")


class LoopbackServer:
    """`with LoopbackServer(reply=fn) as srv: ...` serves at `srv.api_base` until the block ends.

    `faults` maps a substring of the prompt to a list of faults played one per request (then
    "ok"); `default_faults` applies to prompts no key matches. `counts` counts requests per
    prompt, `total` all of them, `peak` the most requests in flight at once, `connections` the
    TCP connections accepted, `requests` the
    JSON bodies received and `targets` their (path with query, Authorization header), in order.
    """

    def __init__(
        self,
        reply: Callable[[list[dict]], str] = echo,
        *,
        latency: float = 0.0,
        faults: dict[str, list[str]] | None = None,
        default_faults: list[str] | None = None,
        retry_after: float = 1.0,
        hang_seconds: float = 5.0,
        trickle_interval: float = 0.5,
        huge_bytes: int = 20 << 20,
        port: int = 0,
        reply_in_thread: bool = True,
    ):
        for plan in [*(faults or {}).values(), default_faults or []]:
            for f in plan:
                if f not in FAULTS:
                    raise ValueError(f"unknown fault {f!r}; expected one of {', '.join(FAULTS)}")
        self.reply = reply
        self.latency = latency
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.default_faults = list(default_faults or [])
        self.retry_after = retry_after
        self.hang_seconds = hang_seconds
        self.trickle_interval = trickle_interval
        self.huge_bytes = huge_bytes
        self.counts: Counter[str] = Counter()
        self.total = 0
        self.peak = 0
        self.connections = 0
        self.requests: list[dict] = []
        self.targets: list[tuple[str, str | None]] = []
        self._in_flight = 0
        self._played: Counter[str] = Counter()  # requests seen per prompt, to walk its script
        self._want_port = port
        self.reply_in_thread = reply_in_thread
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._stop: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pool = ThreadPoolExecutor(max_workers=256, thread_name_prefix="loopback-reply")
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "LoopbackServer":
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open())
            except BaseException as e:  # noqa: BLE001 - handed to start()
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._close())
            loop.close()

        self._thread = threading.Thread(target=serve, name="loopback-llm", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    async def _open(self) -> None:
        self._stop = asyncio.Event()
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", self._want_port,
                                                  backlog=BACKLOG, limit=1 << 24)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        self._server.close()
        for w in list(self._writers):
            w.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._stop.set)  # releases hung requests
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._loop = None

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _next_fault(self, key: str) -> str:
        self.counts[key] += 1
        self.total += 1
        i = self._played[key]
        self._played[key] += 1
        plan = next((v for k, v in self.faults.items() if k in key), self.default_faults)
        return plan[i] if i < len(plan) else "ok"

    # -- HTTP ----------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path = (lines[0].split(" ") + ["", ""])[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                self._in_flight += 1
                self.peak = max(self.peak, self._in_flight)
                try:
                    self.targets.append((path, headers.get("authorization")))
                    keep = await self._request(method, path.split("?", 1)[0], body, writer)
                finally:
                    self._in_flight -= 1
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _send(self, writer, status: int, body: bytes, headers: dict | None = None,
                    length: int | None = None) -> None:
        head = [f"HTTP/1.1 {status} {_reason(status)}", "Content-Type: application/json",
                f"Content-Length: {len(body) if length is None else length}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    async def _request(self, method: str, path: str, raw: bytes, writer) -> bool:
        """Answer one request; False when the connection must close after it."""
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            await self._send(writer, 400, b'{"error": {"message": "bad json"}}')
            return True
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            await self._send(writer, 404, b'{"error": {"message": "not found"}}')
            return True
        self.requests.append(req)
        messages = req.get("messages") or []
        fault = self._next_fault(prompt_key(messages))
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault == "hang":
            try:
                await asyncio.wait_for(self._stop.wait(), self.hang_seconds)
            except asyncio.TimeoutError:
                pass
        if fault == "429":
            await self._send(writer, 429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}',
                             {"Retry-After": f"{self.retry_after:g}"})
            return True
        if fault == "400":
            await self._send(writer, 400,
                             b'{"error": {"message": "bad request: prompt too long", "type": "invalid_request"}}')
            return True
        if fault == "500":
            await self._send(writer, 500, b'{"error": {"message": "internal error"}}')
            return True
        if fault == "malformed":
            await self._send(writer, 200, b'{"id": "x", "choices": [{"message": {"content": "oops"')
            return True
        if fault == "no_choices":
            await self._send(writer, 200, b'{"id": "x", "object": "chat.completion", "choices": []}')
            return True
        n_choices = int(req.get("n") or 1)
        if fault == "huge":
            texts = ["x" * self.huge_bytes] * n_choices
        else:
            loop = asyncio.get_running_loop()
            try:
                texts = [await loop.run_in_executor(self._pool, self.reply, messages) if self.reply_in_thread
                         else self.reply(messages) for _ in range(n_choices)]
            except Exception as e:  # noqa: BLE001 - a broken reply script is the server's 500
                await self._send(writer, 500, json.dumps({"error": {"message": f"reply failed: {e!r}"}}).encode())
                return True
        body = json.dumps({
            "id": "chatcmpl-loopback",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": req.get("model", "loopback"),
            "choices": [
                {"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": t}}
                for i, t in enumerate(texts)
            ],
            "usage": {
                "prompt_tokens": sum(len((m.get("content") or "").split()) for m in messages),
                "completion_tokens": sum(len(t.split()) for t in texts),
                "total_tokens": 0,
            },
        }).encode()
        if fault == "truncated":  # promise the whole body, send half, hang up
            await self._send(writer, 200, body[: len(body) // 2], length=len(body))
            return False
        if fault == "trickle":
            await self._send(writer, 200, b"", length=len(body))
            for i in range(len(body)):
                if self._stop.is_set():
                    return False
                writer.write(body[i:i + 1])
                await writer.drain()
                await asyncio.sleep(self.trickle_interval)
            return True
        await self._send(writer, 200, body)
        return True


def main() -> None:
    ap = argparse.ArgumentParser(description="serve the loopback OpenAI-compatible server until killed")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = LoopbackServer(lambda m: "ok", latency=args.latency, port=args.port, reply_in_thread=False).start()
    print(srv.api_base, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
