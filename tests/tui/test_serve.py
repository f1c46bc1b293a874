"""`workbench serve` in a real headless Chromium: the page loads, the app asks for an annotator
name, `a` accepts a row, and the decision is in the workspace under that name; a second tab is a
second app under another name, and each page shows the other's decisions; meanwhile an
annotator in a terminal (a CLI process) decides the same rows, the browser's app shows it, and
`workbench agreement` reports the two on their overlap. Only the guarded endpoints answer, and
only with the token."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.support.chromium import Chromium

pytestmark = [pytest.mark.asyncio,
              pytest.mark.skipif(Chromium.binary() is None, reason="chromium is not installed (.ci/run installs it)")]
WORKBENCH = Path(sys.executable).parent / "workbench"
ANSI = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>])")


async def _until(condition, what: str, limit: float = 120.0, show=lambda: ""):
    """Poll an async or plain condition until it gives a true value; the deadline only fails
    a hung run, no speed is measured."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}\n{show()}")
        await asyncio.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _decisions(wsp: Path) -> set[tuple]:
    if not wsp.exists():
        return set()
    with sqlite3.connect(wsp) as db:
        return set(db.execute("SELECT row_id, by, status FROM decisions"))


def _processes(pick) -> list[str]:
    """Command lines of the processes whose /proc stat fields (after the name) `pick` accepts."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and pick(fields):  # not a zombie (the server before it is reaped)
                out.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError):  # a process that just ended
            continue
    return out


def _app_processes(server_pid: int) -> list[str]:
    """The server's child processes (its apps)."""
    return _processes(lambda f: int(f[1]) == server_pid)


def _group(pgid: int) -> list[str]:
    return _processes(lambda f: int(f[2]) == pgid)


def _stop(server: subprocess.Popen) -> list[str]:
    """SIGTERM the server (as Ctrl+C would) and wait for it and the app processes it started
    (its process group); SIGKILL what is left. Returns what was left."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while _group(server.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _group(server.pid)
    if left:
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    return left


async def test_served_app_in_chromium_decides_as_the_named_annotator(tmp_path):
    data, wsp, log = tmp_path / "d.jsonl", tmp_path / "ws.sqlite", tmp_path / "serve.log"
    data.write_text("".join(json.dumps({"id": f"ex-{i}", "messages": [
        {"role": "user", "content": f"question number {i}"}, {"role": "assistant", "content": f"answer {i}"}]}) + "\n"
        for i in range(6)))
    port = _free_port()
    with log.open("wb") as out:
        server = subprocess.Popen([str(WORKBENCH), "serve", str(data), "--workspace", str(wsp), "--port", str(port)],
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = (await _until(lambda: re.search(r"Open (http://\S+)", log.read_text()), "the address",
                            show=log.read_text)).group(1)
        assert url.startswith(f"http://127.0.0.1:{port}/?token=")
        token = url.split("token=")[1]
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for path, headers, code in [
                ("/", {}, 403), ("/ws", {}, 403), ("/static/js/textual.js", {}, 403),
                ("/?token=wrong", {}, 403),
                ("/static/js/textual.js", {"X-Workbench-Token": token}, 200),
                ("/", {"Authorization": f"Bearer {token}"}, 200),
                (f"/static/?token={token}", {}, 404),  # textual-serve would list the folder
                (f"/download/x?token={token}", {}, 404), (f"/other?token={token}", {}, 404),
                (f"/ws?token={token}", {"Origin": "http://evil.example"}, 403),
            ]:
                async with http.get(base + path, headers=headers) as r:
                    assert r.status == code, (path, headers, r.status)

        async with Chromium(tmp_path) as browser:
            async def screen(page, since: int = 0) -> str:
                return ANSI.sub("", (await page.terminal_text())[since:])

            async def sign_in(page, name: str) -> None:
                await page.send("Page.navigate", url=url)
                await _until(lambda: _has(screen(page), "annotator name"), "the name prompt in the page")
                await page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
                await page.type(name + "\r")
                await _until(lambda: _has(screen(page), "#0 · 1/6"), "the rows in the page")
                await _until(lambda: _has(screen(page), "question number 5"), "the last row in the page")

            ana = await browser.page()
            await sign_in(ana, "ana")
            png = await ana.screenshot(tmp_path / "served.png")
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000  # a drawn page, not a blank one

            assert sum("--ask-user" in c for c in _app_processes(server.pid)) == 1  # this session's app
            await ana.type("a")  # ana accepts ex-0, the cursor moves to ex-1, which she rejects
            await _until(lambda: ("ex-0", "ana", "accept") in _decisions(wsp), "ana's accept in the workspace")
            await ana.type("r")
            await _until(lambda: ("ex-1", "ana", "reject") in _decisions(wsp), "ana's reject in the workspace")

            # A second tab is a second session with its own app and name: chen accepts the last row,
            # and ana's page shows it.
            since = len(await ana.terminal_text())
            chen = await browser.page()
            await sign_in(chen, "chen")
            assert sum("--ask-user" in c for c in _app_processes(server.pid)) == 2
            await chen.type("Ga")
            await _until(lambda: ("ex-5", "chen", "accept") in _decisions(wsp), "chen's accept in the workspace")
            await _until(lambda: _has(screen(ana, since), "✓2"), "chen's accept in ana's page")
            await chen.screenshot(tmp_path / "served-chen.png")

            # ben, in a terminal, rejects ana's two rows: her page shows it.
            since = len(await ana.terminal_text())
            subprocess.run([str(WORKBENCH), "decide", str(data), "--workspace", str(wsp), "--user", "ben", "--reject",
                            "--row", "ex-0", "--row", "ex-1"], check=True, capture_output=True)
            await _until(lambda: _has(screen(ana, since), "✗2"), "ben's rejections in ana's page")
            await ana.screenshot(tmp_path / "served-after.png")
        await _until(lambda: server.poll() is None and not _app_processes(server.pid),
                     "the apps to end with their browser sessions")
    finally:
        left = _stop(server)
    assert not left, f"the server left processes behind: {left}"
    assert _decisions(wsp) == {("ex-0", "ana", "accept"), ("ex-1", "ana", "reject"), ("ex-5", "chen", "accept"),
                               ("ex-0", "ben", "reject"), ("ex-1", "ben", "reject")}
    # Their agreement on the two rows both decided: one alike, one not; both of ben's labels are
    # reject, so chance agreement is 0.5 as well and Cohen's kappa is 0.
    report = json.loads(subprocess.run([str(WORKBENCH), "agreement", str(data), "--workspace", str(wsp), "--json"],
                                       check=True, capture_output=True, text=True).stdout)
    assert [(p["a"], p["b"], p["items"], p["agreement"], p["cohen_kappa"]) for p in report["pairs"]] == [
        ("ana", "ben", 2, 0.5, 0.0)]


async def _has(text, needle: str) -> bool:
    return needle in await text
