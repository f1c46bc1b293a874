"""Opening a source edited since the decisions were made: they follow their rows, and the user is told."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.asyncio


async def _opened(app, pilot) -> None:
    while app.model is None and app.open_error is None:
        await pilot.pause(0.05)
    assert app.open_error is None


async def test_decisions_made_in_the_tui_follow_their_rows_after_an_edit(tmp_path):
    from workbench.tui.app import WorkbenchApp

    src = tmp_path / "a.jsonl"
    shutil.copy(ROOT / "sample_data" / "alpaca.jsonl", src)
    ws_path = str(tmp_path / "ws.sqlite")
    app = WorkbenchApp([str(src)], workspace_path=ws_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _opened(app, pilot)
        await pilot.press("down", "down", "down", "r")  # reject the 4th row (the French translation)
        assert app.session.statuses == {"a.jsonl:3": "reject"}
        assert app.ws.decision_hashes()["a.jsonl:3"] is not None
        assert not any("source changed" in n.message for n in app._notifications)

    row = {"instruction": "New first row.", "input": "", "output": "Hello there."}
    src.write_text(json.dumps(row) + "\n" + src.read_text())
    app = WorkbenchApp([str(src)], workspace_path=ws_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _opened(app, pilot)
        assert app.session.statuses == {"a.jsonl:4": "reject"}
        assert app.ds.record(4)["messages"][0]["content"].startswith("Translate the sentence into French.")
        await pilot.pause()
        assert any("1 moved with their rows, 0 set aside" in n.message for n in app._notifications)
