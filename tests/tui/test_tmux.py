"""The real program in a real terminal: start `workbench FILE` in tmux, press keys, read the
screen with capture-pane, and check that an accept reached the workspace SQLite file."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.waiting import wait_for as _wait_for

ROOT = Path(__file__).resolve().parents[2]
WORKBENCH = Path(sys.executable).parent / "workbench"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def test_accept_in_tmux_reaches_the_workspace(tmp_path, _workbench_home):
    ws = tmp_path / "ws.sqlite"
    session = f"wbtest{os.getpid()}"
    env = f"WORKBENCH_HOME={_workbench_home} TERM=xterm-256color"
    cmd = f"cd {ROOT} && {env} {WORKBENCH} sample_data/alpaca.jsonl --workspace {ws}"
    _tmux("new", "-d", "-s", session, "-x", "120", "-y", "40", cmd)
    try:
        # Another tmux session on the same server can impose its size; insist on ours.
        _tmux("set-option", "-t", session, "window-size", "manual")
        _tmux("resize-window", "-t", session, "-x", "120", "-y", "40")
        def screen() -> str:
            return _tmux("capture-pane", "-p", "-t", session)

        def first_screen():
            # The row list and the status line can reach the terminal in separate frames.
            text = screen()
            return text if "Write a Python function" in text and "1 Browse" in text and "#0 · 1/" in text else None

        _wait_for(first_screen, "the first row, the tabs and the status line on screen", show=screen)
        _tmux("send-keys", "-t", session, "j", "a")

        def decided():
            if not ws.exists():
                return None
            with sqlite3.connect(ws) as db:
                return db.execute("SELECT row_id, status FROM decisions").fetchall()

        rows = _wait_for(decided, "the decision in the SQLite file")
        assert len(rows) == 1 and rows[0][1] == "accept"
        def accepted_on_screen():
            text = screen()
            # The accept is counted and the cursor moved on to the next row.
            return text if "✓1" in text and "#2 · 3/" in text else None

        _wait_for(accepted_on_screen, "the accept on screen and the cursor on row 3", show=screen)
        _tmux("send-keys", "-t", session, "q")
        _wait_for(lambda: subprocess.run(["tmux", "has-session", "-t", session],
                                         capture_output=True).returncode != 0, "the program to quit")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_the_open_tui_shows_what_a_cli_run_decided(tmp_path, _workbench_home):
    """Issue 15.6: a `workbench decide` by another annotator while the TUI is open reaches the
    screen on its own; the cursor stays on its row, and the TUI's own decision is kept beside."""
    import json

    data, ws = tmp_path / "d.jsonl", tmp_path / "ws.sqlite"
    data.write_text("".join(json.dumps({"id": f"ex-{i}", "messages": [
        {"role": "user", "content": f"question number {i}"}, {"role": "assistant", "content": f"a {i}"}]}) + "\n"
        for i in range(5)))
    session = f"wbreload{os.getpid()}"
    env = f"WORKBENCH_HOME={_workbench_home} TERM=xterm-256color"
    _tmux("new", "-d", "-s", session, "-x", "100", "-y", "30",
          f"{env} {WORKBENCH} {data} --workspace {ws} --user ana")
    try:
        _tmux("set-option", "-t", session, "window-size", "manual")
        _tmux("resize-window", "-t", session, "-x", "100", "-y", "30")

        def screen() -> str:
            return _tmux("capture-pane", "-p", "-t", session)

        _wait_for(lambda: "question number 4" in screen() and "#0 · 1/5" in screen(), "the rows on screen", show=screen)
        _tmux("send-keys", "-t", session, "j", "j")
        _wait_for(lambda: "#2 · 3/5" in screen(), "the cursor on row 3", show=screen)
        subprocess.run([str(WORKBENCH), "decide", str(data), "--workspace", str(ws), "--user", "ben", "--reject",
                        "--row", "ex-0", "--row", "ex-1"], check=True, capture_output=True)
        _wait_for(lambda: "✗2" in screen() and "#2 · 3/5" in screen(), "ben's rejections on screen", show=screen)
        _tmux("send-keys", "-t", session, "a")
        _wait_for(lambda: "✓1" in screen() and "#3 · 4/5" in screen(), "ana's accept on screen", show=screen)
        _tmux("send-keys", "-t", session, "q")
        _wait_for(lambda: subprocess.run(["tmux", "has-session", "-t", session],
                                         capture_output=True).returncode != 0, "the program to quit")
        with sqlite3.connect(ws) as db:
            assert sorted(db.execute("SELECT row_id, by, status FROM decisions")) == [
                ("ex-0", "ben", "reject"), ("ex-1", "ben", "reject"), ("ex-2", "ana", "accept")]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
