"""The real program in tmux (its own server, `set-clipboard on`) on a dataset whose rows hold a
window-title change (OSC 0), a screen clear (CSI 2J) and clipboard writes (OSC 52): browsing,
reading and rendering them leaves the pane title and tmux's paste buffers as they were, and the
screen shows the sequences as visible characters."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time

import pytest

WORKBENCH = os.path.join(os.path.dirname(sys.executable), "workbench")
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

TITLE = "\x1b]0;PWNED-TITLE\x07"
CLEAR = "\x1b[2J"
CLIP = "\x1b]52;c;UFdORUQtQ0xJUA==\x07"  # base64 of PWNED-CLIP
CLIP_ST = "\x1b]52;p;UFdORUQtU1Q=\x1b\\"  # the same with the ST terminator


def _rows() -> list[dict]:
    return [{"instruction": f"row {i} {TITLE}{CLEAR}{CLIP}", "input": CLIP_ST,
             "output": f"answer {TITLE}{CLIP}", f"field{TITLE}": "x"} for i in range(3)]


def test_hostile_rows_do_not_reach_the_terminal(tmp_path, _workbench_home):
    data = tmp_path / "hostile.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _rows()), encoding="utf-8")
    server = ["tmux", "-L", f"wbhostile{os.getpid()}", "-f", "/dev/null"]

    def tmux(*args: str) -> str:
        return subprocess.run([*server, *args], check=True, capture_output=True, text=True).stdout

    cmd = (f"cd {shlex.quote(str(tmp_path))} && WORKBENCH_HOME={shlex.quote(str(_workbench_home))} "
           f"TERM=xterm-256color {WORKBENCH} {data.name} --workspace ws.sqlite; echo WB-EXITED; sleep 60")
    tmux("new-session", "-d", "-s", "h", "-x", "100", "-y", "30", "sh")
    try:
        tmux("set-option", "-g", "set-clipboard", "on")
        tmux("select-pane", "-t", "h", "-T", "clean-title")
        tmux("respawn-pane", "-k", "-t", "h", cmd)

        def screen() -> str:
            return tmux("capture-pane", "-p", "-t", "h")

        def wait_for(text: str) -> None:
            end = time.monotonic() + 120  # only to fail instead of hanging; no speed is measured
            while text not in screen():
                assert time.monotonic() < end, f"gave up waiting for {text!r}; screen:\n{screen()}"
                time.sleep(0.3)

        wait_for("#0 · 1/3")
        seen = [screen()]
        for keys, shows in (("2", "answer"), ("t", "Chat template"), ("Enter", "chatml"), ("5", "rows"),
                            ("1", "#0 · 1/3"), ("j", "#1 · 2/3")):
            tmux("send-keys", "-t", "h", keys)
            wait_for(shows)
            time.sleep(0.5)  # let the frame after this one reach the terminal too
            seen.append(screen())
        tmux("send-keys", "-t", "h", "q")
        wait_for("WB-EXITED")
        assert tmux("display-message", "-p", "-t", "h", "#{pane_title}").strip() == "clean-title"
        assert tmux("list-buffers").strip() == ""  # no OSC 52 reached tmux's clipboard
        shown = "\n".join(seen)
        assert "␛]0;PWNED-TITLE␇" in shown and "␛]52;c;UFdORUQtQ0xJUA==␇" in shown
        assert "row 0" in seen[0]  # the clear-screen did not wipe the list
    finally:
        subprocess.run([*server, "kill-server"], capture_output=True)
