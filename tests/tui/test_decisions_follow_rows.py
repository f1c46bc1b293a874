"""Decisions belong to rows, not to the set of files opened (issue 15 item 14): curate a.jsonl,
then open a.jsonl b.jsonl together, through the real CLI and the real TUI, on the default
workspaces (real SQLite files under WORKBENCH_HOME)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKBENCH = Path(sys.executable).parent / "workbench"


@pytest.fixture
def files(tmp_path, _workbench_home) -> tuple[Path, Path]:
    rows = [json.loads(line) for line in (ROOT / "sample_data" / "alpaca.jsonl").read_text().splitlines()[:6]]
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in rows[:3]))
    b.write_text("".join(json.dumps(r) + "\n" for r in rows[3:]))
    return a, b


def _cli(*args: str, cwd: Path) -> str:
    done = subprocess.run([str(WORKBENCH), *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_decisions_on_a_show_when_a_and_b_open_together_and_back(files):
    a, b = files
    d = a.parent
    _cli("decide", "a.jsonl", "--row", "a.jsonl:0", "--row", "a.jsonl:1", "--accept", "--note", "clear", cwd=d)
    _cli("decide", "a.jsonl", "--row", "a.jsonl:2", "--reject", cwd=d)
    both = _cli("status", "a.jsonl", "b.jsonl", cwd=d)
    assert "accept 2   reject 1   pending 3" in both, both
    # Decided in the set of two, it shows on a.jsonl alone (a newer decision wins) and on b.jsonl.
    _cli("decide", "a.jsonl", "b.jsonl", "--row", "a.jsonl:0", "--row", "b.jsonl:1", "--reject", cwd=d)
    assert "accept 1   reject 2   pending 0" in _cli("status", "a.jsonl", cwd=d)
    assert "accept 0   reject 1   pending 2" in _cli("status", "b.jsonl", cwd=d)
    # The note came along with the decision; a workspace given by hand is left alone.
    from workbench.data.dataset import Dataset
    from workbench.store.workspace import Workspace

    ds = Dataset.open([str(a), str(b)])
    with Workspace.for_dataset(ds) as ws:
        assert ws.decision("a.jsonl:1")["note"] == "clear"
    with Workspace.for_dataset(ds, d / "own.sqlite") as own:
        assert own.statuses() == {}


@pytest.mark.asyncio
async def test_the_tui_on_a_and_b_shows_the_decisions_made_on_a(files, wait_until, screen_text):
    from workbench.session import Session
    from workbench.tui.app import WorkbenchApp

    a, b = files
    s = Session.open([str(a)])
    s.decide(["a.jsonl:0", "a.jsonl:1"], "accept")
    s.decide(["a.jsonl:2"], "reject")
    s.close()
    app = WorkbenchApp([str(a), str(b)])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session is not None and "#0 · 1/6 ·" in screen_text(app), "the list")
        assert "✓2 ✗1 ·3" in screen_text(app)
        await pilot.press("j", "j", "j", "a")  # b.jsonl:0, decided in the set of two
        await wait_until(pilot, lambda: "✓3 ✗1 ·2" in screen_text(app), "the accept counted")
    alone = Session.open([str(b)])
    try:
        assert alone.counts() == {"accept": 1, "reject": 0, "pending": 2}
    finally:
        alone.close()
