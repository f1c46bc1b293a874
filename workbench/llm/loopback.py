"""A small OpenAI-compatible chat server on 127.0.0.1, with fault injection.

Used by the fault-tolerance tests and the LLM benchmark (and handy for trying an operation
without a model): it answers `POST /v1/chat/completions`, counts requests per prompt, can add
latency, and plays a script of faults per prompt — a hung request (client timeout), 429 with
Retry-After, 500, a truncated body, a malformed body, and a 400 that no retry can fix — before answering normally.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

FAULTS = ("ok", "hang", "429", "500", "truncated", "malformed", "no_choices", "400")


def echo(messages: list[dict]) -> str:
    """Default reply: names the last user turn, so a test can tell answers apart."""
    last = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
    return f"Answer: {last}"


def prompt_key(messages: list[dict]) -> str:
    """What a fault script and the request counter key on: the last user turn."""
    return next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")


class LoopbackServer:
    """`with LoopbackServer(reply=fn) as srv: ...` serves at `srv.api_base` until the block ends.

    `faults` maps a substring of the prompt to a list of faults played one per request (then
    "ok"); `default_faults` applies to prompts no key matches. `counts` counts requests per
    prompt, `total` all of them. `hang_seconds` is how long a "hang" waits before answering.
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
        self.counts: Counter[str] = Counter()
        self.total = 0
        self._lock = threading.Lock()
        self._played: Counter[str] = Counter()  # requests seen per prompt, to walk its script
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.request_queue_size = 128
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "LoopbackServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="loopback-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # releases hung requests
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _next_fault(self, key: str) -> str:
        with self._lock:
            self.counts[key] += 1
            self.total += 1
            i = self._played[key]
            self._played[key] += 1
            plan = next((v for k, v in self.faults.items() if k in key), self.default_faults)
            return plan[i] if i < len(plan) else "ok"

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None, length: int | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.close_connection = True

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    req = json.loads(self.rfile.read(n) or b"{}")
                except ValueError:
                    self._send(400, b'{"error": {"message": "bad json"}}')
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                messages = req.get("messages") or []
                fault = server._next_fault(prompt_key(messages))
                if server.latency:
                    time.sleep(server.latency)
                if fault == "hang":
                    server._stop.wait(server.hang_seconds)
                if fault == "429":
                    self._send(429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}',
                               {"Retry-After": f"{server.retry_after:g}"})
                    return
                if fault == "400":
                    self._send(400, b'{"error": {"message": "bad request: prompt too long", "type": "invalid_request"}}')
                    return
                if fault == "500":
                    self._send(500, b'{"error": {"message": "internal error"}}')
                    return
                if fault == "malformed":
                    self._send(200, b'{"id": "x", "choices": [{"message": {"content": "oops"')
                    return
                if fault == "no_choices":
                    self._send(200, b'{"id": "x", "object": "chat.completion", "choices": []}')
                    return
                n_choices = int(req.get("n") or 1)
                texts = [server.reply(messages) for _ in range(n_choices)]
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
                    self._send(200, body[: len(body) // 2], length=len(body))
                    self.close_connection = True
                    return
                self._send(200, body)

        return Handler
