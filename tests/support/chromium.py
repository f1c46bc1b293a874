"""A real headless Chromium (the Debian package `chromium`) driven over the Chrome DevTools
Protocol (https://chromedevtools.github.io/devtools-protocol/) with aiohttp's websocket client.

    async with Chromium(tmp_path) as browser:
        page = await browser.page()
        await page.send("Page.navigate", url=url)
        png = await page.screenshot(tmp_path / "page.png")

`Chromium.binary()` is None where no Chromium is installed (.ci/run installs it)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import shutil
import subprocess
import time
from pathlib import Path

import aiohttp

# Run in the page before its own scripts: keeps what the served app sends to the terminal
# emulator (xterm.js draws it on a canvas, so the page's DOM has no text to read), as text.
RECORD_TERMINAL = """
(() => {
  window.__terminal = "";
  const decoder = new TextDecoder();
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", (e) => {
      if (typeof e.data !== "string") window.__terminal += decoder.decode(e.data, {stream: true});
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
})();
"""

# Key events of the characters that are no letter: (key, code, keyCode, text).
KEYS = {"\r": ("Enter", "Enter", 13, "\r")}


class Page:
    """One tab, driven over its own DevTools websocket."""

    def __init__(self, ws) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self._ws:
            data = msg.json()
            fut = self._waiting.pop(data.get("id"), None)
            if fut is not None and not fut.done():
                fut.set_result(data)

    async def close(self) -> None:
        self._reader.cancel()
        await self._ws.close()

    async def send(self, method: str, **params) -> dict:
        """One DevTools command; its result, or AssertionError with the protocol's error."""
        i = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._waiting[i] = fut
        await self._ws.send_json({"id": i, "method": method, "params": params})
        reply = await asyncio.wait_for(fut, 120)
        assert "error" not in reply, f"{method}: {reply['error']}"
        return reply.get("result", {})

    async def evaluate(self, expression: str):
        return (await self.send("Runtime.evaluate", expression=expression, returnByValue=True))["result"].get("value")

    async def terminal_text(self) -> str:
        """What the served app has sent to the page's terminal so far, escape sequences and all."""
        return await self.evaluate("window.__terminal || ''") or ""

    async def type(self, text: str) -> None:
        """Type into the focused element (the terminal's input) key by key; "\r" is Enter."""
        for ch in text:
            key = KEYS.get(ch)
            if key is None:
                key = (ch, f"Key{ch.upper()}" if ch.isalpha() else "", ord(ch.upper()), ch)
            await self.press(*key)

    async def press(self, key: str, code: str, keycode: int, text: str) -> None:
        common = {"key": key, "code": code, "windowsVirtualKeyCode": keycode}
        await self.send("Input.dispatchKeyEvent", type="keyDown", text=text, **common)
        await self.send("Input.dispatchKeyEvent", type="keyUp", **common)

    async def screenshot(self, path: Path) -> bytes:
        await self.send("Page.bringToFront")  # a tab behind another draws no frames to capture
        png = base64.b64decode((await self.send("Page.captureScreenshot", format="png"))["data"])
        path.write_bytes(png)
        return png


class Chromium:
    """Headless Chromium on its own profile; `page()` opens a tab (the first call takes the one
    it starts with), each recording its terminal (RECORD_TERMINAL)."""

    def __init__(self, workdir: Path, size: tuple[int, int] = (1200, 800)) -> None:
        self.workdir, self.size = workdir, size
        self.proc: subprocess.Popen | None = None
        self._http: aiohttp.ClientSession | None = None
        self._base = ""
        self.pages: list[Page] = []

    @staticmethod
    def binary() -> str | None:
        return shutil.which("chromium") or shutil.which("chromium-browser")

    async def __aenter__(self) -> "Chromium":
        profile = self.workdir / "chromium-profile"
        profile.mkdir(parents=True, exist_ok=True)
        # --no-sandbox: CI runs as root, where Chromium's own sandbox refuses to start.
        self.proc = subprocess.Popen(
            [self.binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", f"--window-size={self.size[0]},{self.size[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=(self.workdir / "chromium.log").open("wb"))
        port_file = profile / "DevToolsActivePort"  # Chromium writes the port it chose here
        deadline = time.monotonic() + 120  # only to fail instead of hanging
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            assert self.proc.poll() is None, f"chromium exited: {(self.workdir / 'chromium.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            await asyncio.sleep(0.2)
        self._base = f"http://127.0.0.1:{port_file.read_text().split()[0]}"
        self._http = aiohttp.ClientSession()
        return self

    async def page(self) -> Page:
        if self.pages:
            async with self._http.put(f"{self._base}/json/new?about:blank") as r:
                target = await r.json()
        else:
            async with self._http.get(f"{self._base}/json/list") as r:
                target = next(t for t in await r.json() if t["type"] == "page")
        page = Page(await self._http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0))
        self.pages.append(page)
        await page.send("Page.enable")
        await page.send("Page.addScriptToEvaluateOnNewDocument", source=RECORD_TERMINAL)
        return page

    async def __aexit__(self, *exc) -> None:
        if self.pages:
            try:
                await asyncio.wait_for(self.pages[0].send("Browser.close"), 30)
            except Exception:  # noqa: BLE001 - closing anyway: the process is ended below
                pass
        for page in self.pages:
            await page.close()
        if self._http is not None:
            await self._http.close()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
