"""Quitting never waits for running work: the real program in tmux, a topic map embedding
20,000 rows with the real embedding model, then `q` (which asks, and `q` again says yes) or
Ctrl-C. The process is gone within 2 s and the terminal shows no traceback and no `Aborted`
(before, the screen went blank for minutes while the interpreter waited for the work, or a
daemon thread killed inside torch aborted the process). What it left running is recorded as
cancelled in the workspace, which the next session's Jobs pane lists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.waiting import wait_for
from workbench.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
WORKBENCH = Path(sys.executable).parent / "workbench"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
SOCKET = f"wbquit{os.getpid()}"  # a tmux server of our own: nobody else's sessions are touched


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("quit") / "big.jsonl"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_large.py"), "-o", str(path), "-n", "20000"],
                   check=True, capture_output=True)
    return path


@pytest.mark.parametrize("keys", [("q", "q"), ("C-c",)], ids=["q-then-yes", "ctrl-c"])
def test_quit_while_the_map_runs_exits_at_once(keys, big_file, tmp_path, _workbench_home):
    session = "quit"
    env = f"WORKBENCH_HOME={_workbench_home} TERM=xterm-256color"
    cmd = f"cd {ROOT} && {env} {WORKBENCH} {big_file} --workspace {tmp_path / 'ws.sqlite'}; echo EXIT=$?; sleep 600"
    _tmux("new", "-d", "-s", session, "-x", "80", "-y", "24", cmd)
    try:
        def screen() -> str:
            return _tmux("capture-pane", "-p", "-t", session)

        wait_for(lambda: "1/20,000 ·" in screen(), "the list", show=screen, step=0.05, limit=300)
        _tmux("send-keys", "-t", session, "C-p")
        wait_for(lambda: "🔎" in screen(), "the palette", show=screen, step=0.05, limit=300)
        _tmux("send-keys", "-t", session, "run-map")
        wait_for(lambda: "2-D topic map" in screen(), "run-map in the palette", show=screen, step=0.05, limit=300)
        _tmux("send-keys", "-t", session, "Enter")
        wait_for(lambda: "map started" in screen(), "the map to start", show=screen, step=0.05, limit=300)
        _tmux("send-keys", "-t", session, "4")
        # The map is past its start: the embedding model loads or embeds (live progress).
        wait_for(lambda: "embedding" in screen(), "the embedding stage in the Jobs pane", show=screen, step=0.05, limit=300)
        _tmux("send-keys", "-t", session, keys[0])
        if len(keys) > 1:  # q asks first while work runs; q again (or y) says yes
            wait_for(lambda: "map is running. Quit now?" in screen(), "the quit question", show=screen, step=0.05, limit=300)
            _tmux("send-keys", "-t", session, keys[1])
        pressed = time.monotonic()
        text = wait_for(lambda: (lambda s: s if "EXIT=" in s else None)(screen()), "the program to end",
                        show=screen, limit=120, step=0.05)
        took = time.monotonic() - pressed
        assert took < 2.0, f"the program took {took:.1f} s to end"
        assert "EXIT=0" in text, text
        for bad in ("Traceback", "Aborted", "terminate called", "Error"):
            assert bad not in text, text
        # what it left running is recorded as cancelled, for the Jobs pane of the next session
        with Workspace.open(tmp_path / "ws.sqlite") as ws:
            runs = ws.runs()
        assert any(r["op"] == "map" and r["status"] == "cancelled" for r in runs), runs
        assert not any(r["status"] in ("running", "interrupted") for r in runs), runs
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
