"""`workbench serve PATH`: the same Textual app in a browser, through textual-serve.

textual-serve (https://github.com/Textualize/textual-serve) runs an aiohttp server whose page
holds a terminal emulator (xterm.js); each websocket the page opens starts one app process
(`workbench open PATH --ask-user`, the Textual web driver) and relays its screen and keys. So
each browser session is its own app, asking for its annotator name first, and all of them
share the dataset's workspace (SQLite WAL) with any TUI or CLI run on it.

textual-serve's routes are `/` (the page), `/ws` (the app), `/static/...` (the page's scripts,
styles, fonts; with directory listings) and `/download/{key}` (files an app sends to the
browser, which this app never does). A guard in front of them all:
- answers only `/`, `/ws` and files under `/static/` (no listing, no downloads): 404 else;
- asks for the token printed at start, as `?token=` on the URL, an `X-Workbench-Token` header
  or `Authorization: Bearer`; the page sets it as a same-site, HTTP-only cookie, so its
  scripts and its websocket carry it: 403 without it;
- refuses a websocket opened by a page of another origin (another site in the same browser).
The token is asked for on loopback too: every user of a shared machine can reach 127.0.0.1.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import shlex
import socket
import sys
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server

TOKEN_COOKIE = "workbench_token"
TOKEN_HEADER = "X-Workbench-Token"


def given_token(request: web.Request) -> str:
    """The token a request carries: URL parameter, header, bearer, or the page's cookie ("" if none)."""
    bearer = request.headers.get("Authorization", "")
    return (request.query.get("token") or request.headers.get(TOKEN_HEADER)
            or (bearer[7:] if bearer.startswith("Bearer ") else "") or request.cookies.get(TOKEN_COOKIE, ""))


class WorkbenchServer(Server):
    """textual-serve's Server behind the guard (see the module doc), with the page's websocket
    address taken from the address the browser used (an SSH tunnel's local port works)."""

    def __init__(self, command: str, *, host: str, port: int, token: str, title: str) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self.token = token
        self.sessions: set = set()  # the connections (asyncio transports) of the open app websockets

    def url(self) -> str:
        """The address to open, token included."""
        host = socket.gethostname() if self.host in ("0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/?token={self.token}"

    def initialize_logging(self) -> None:
        super().initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # each request's line holds the token

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler) -> web.StreamResponse:
        path = request.path
        if not (path in ("/", "/ws") or (path.startswith("/static/") and not path.endswith("/"))):
            raise web.HTTPNotFound()
        if not hmac.compare_digest(given_token(request).encode(), self.token.encode()):
            raise web.HTTPForbidden(text="workbench serve: open the address printed at start (it holds the token)\n")
        origin = request.headers.get("Origin")
        if path == "/ws" and origin is not None and origin.split("://", 1)[-1] != request.host:
            raise web.HTTPForbidden(text="workbench serve: a page of another site may not open this app\n")
        connection = request.transport if path == "/ws" else None
        if connection is not None:
            self.sessions.add(connection)
        try:
            response = await handler(request)
        finally:
            self.sessions.discard(connection)
        if path == "/":
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="Strict", path="/")
        return response

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        try:
            font_size = int(request.query.get("fontsize", "16"))
        except ValueError:
            font_size = 16
        scheme = "wss" if request.secure else "ws"
        return {"font_size": font_size, "app_websocket_url": f"{scheme}://{request.host}/ws",
                "config": {"static": {"url": "/static/"}}, "application": {"name": self.title}}

    async def on_shutdown(self, app: web.Application) -> None:
        """Drop the browsers' connections: each session's handler then tells its app to quit and
        waits for it, so Ctrl+C ends every app at once (else aiohttp waits a minute for them)."""
        for connection in list(self.sessions):
            connection.close()

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: textual-serve prints its logo here; the address is printed once bound."""

    def serve(self, debug: bool = False) -> None:
        """Listen until SIGINT / SIGTERM; OSError when the address cannot be bound."""
        self.debug = debug
        self.initialize_logging()
        web.run_app(self._make_app(), host=self.host, port=self.port, print=lambda _: self._ready())

    def _ready(self) -> None:
        print(f"workbench serve: {self.title}\nOpen {self.url()}\n"
              "Each browser tab is its own session and asks for an annotator name. Ctrl+C stops.", flush=True)


def serve(app_args: list[str], *, host: str, port: int, title: str) -> None:
    """Serve `workbench open APP_ARGS --ask-user` on http://HOST:PORT until Ctrl+C / SIGTERM,
    asking for a new random token (192 bits), printed in the address. OSError when the address
    cannot be bound."""
    command = shlex.join([sys.executable, "-m", "workbench", "open", *app_args, "--ask-user"])
    WorkbenchServer(command, host=host, port=port, token=secrets.token_urlsafe(24), title=title).serve()
