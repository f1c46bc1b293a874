"""`workbench status`, `workbench stats --json`, the TUI's status line and export agree on the
decision counts after decisions in every pane (Browse, Duplicates, Gen), on a real JSONL file,
a real SQLite workspace and rows that `workbench generate` (the CLI) made for review."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.loopback import LoopbackServer

pytestmark = pytest.mark.asyncio

REPLY = "Step one: think. Step two: the answer is four."


def _data(tmp_path):
    path = tmp_path / "chat.jsonl"
    rows = [{"id": f"c{i}", "messages": [{"role": "user", "content": f"Explain topic {i % 5} in two sentences please."},
                                           {"role": "assistant", "content": f"Topic {i % 5} is explained here plainly."}]}
            for i in range(10)]  # c5..c9 are exact duplicates of c0..c4
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


async def test_status_stats_tui_and_export_count_the_same(tmp_path, wait_until, wait_for_operation, run_from_palette,
                                                        workbench_cli):
    from workbench.tui.app import WorkbenchApp

    data, wsp = _data(tmp_path), str(tmp_path / "ws.sqlite")
    with LoopbackServer(lambda m: REPLY) as srv:  # rows made by the CLI, kept for review in the Gen pane
        workbench_cli("generate", "cot", str(data), "--workspace", wsp, "--limit", "3", "--model", "openai/x",
             "--api-base", srv.api_base, "-o", str(tmp_path / "cot.jsonl"))

    app = WorkbenchApp([str(data)], workspace_path=wsp)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model is not None, "the dataset to open")
        await pilot.press("a", "r")  # Browse: accept c0, reject c1
        await run_from_palette(pilot, "run-dedup-exact")  # proposes rejecting c5..c9
        await wait_for_operation(pilot, "dedup-exact")
        await pilot.press("6")  # Duplicates: keep the right-hand member of the first cluster
        await pilot.pause()
        await pilot.press("o", "x")
        await pilot.press("8")  # Gen: the CLI's three rewrites are here; accept two, reject one
        await pilot.pause()
        assert len(app.session.generated()) == 3
        await pilot.press("a", "a", "r")
        await pilot.pause()
        tui = app.session.counts()
        line = str(app.query_one("#status").render())
        shown = dict(zip(("accept", "reject", "pending"), map(int, re.search(r"✓(\d+) ✗(\d+) ·(\d+)", line).groups())))
        assert shown == tui
    assert tui["accept"] >= 1 and tui["reject"] >= 5  # the decisions of every pane are in

    status = json.loads(workbench_cli("status", str(data), "--workspace", wsp, "--json"))
    stats = json.loads(workbench_cli("stats", str(data), "--workspace", wsp, "--json", "--no-tokens"))
    assert status["counts"] == stats["decisions"] == tui
    assert status["generated"] == stats["generated"] == {"accept": 2, "reject": 1, "pending": 0}
    summary = json.loads(workbench_cli("export", str(data), "--workspace", wsp, "--to", "openai",
                              "-o", str(tmp_path / "out.jsonl"), "--json"))
    assert summary["rows"] == tui["accept"] + tui["pending"]
    assert sum(summary["left_out"].values()) == tui["reject"]
