"""The open TUI sees what another process wrote to its workspace: a real `workbench` CLI process
decides rows (as another annotator) and runs a dedup while the app runs, and the app re-reads
decisions, signals and clusters on its own, its cursor staying on its row, and nobody's
decision overwritten."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.asyncio
WORKBENCH = Path(sys.executable).parent / "workbench"


def _rows(path: Path) -> None:
    rows = [{"id": f"ex-{i}", "messages": [{"role": "user", "content": f"q {i}"},
                                         {"role": "assistant", "content": f"a {i}"}]} for i in range(6)]
    rows[5]["messages"] = rows[4]["messages"]  # ex-4 and ex-5 are duplicates
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


async def _cli(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(str(WORKBENCH), *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, (args, out.decode(), err.decode())


async def test_the_tui_reloads_what_a_cli_process_wrote(tmp_path, wait_until):
    from workbench.store.workspace import Workspace
    from workbench.tui.app import WorkbenchApp

    data, wsp = tmp_path / "d.jsonl", tmp_path / "ws.sqlite"
    _rows(data)
    where = [str(data), "--workspace", str(wsp)]
    app = WorkbenchApp([str(data)], workspace_path=str(wsp), user="ana")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model is not None, "the dataset to open")
        await pilot.press("a")  # ana accepts ex-0; the cursor moves to ex-1
        await pilot.press("f")
        await pilot.press(*"status=pending", "enter")
        await wait_until(pilot, lambda: len(app.session) == 5, "the pending filter")
        await pilot.press("j", "j")
        assert app.model.row_id(app.row_list.cursor) == "ex-3"

        # Ben, in another process, rejects ex-0 (ana's) and ex-1 (above ana's cursor).
        await _cli("decide", *where, "--user", "ben", "--reject", "--row", "ex-0", "--row", "ex-1")
        await wait_until(pilot, lambda: app.session.status("ex-1") == "reject", "the TUI to see ben's decisions")
        assert app.session.status("ex-0") == "reject"  # the single rule: the latest decision stands
        assert app.session.view_ids() == ["ex-2", "ex-3", "ex-4", "ex-5"]
        assert app.model.row_id(app.row_list.cursor) == "ex-3"  # the cursor stayed on its row
        await wait_until(pilot, lambda: "✗2" in str(app.query_one("#status").render())
                         and str(app.query_one("#status").render()).endswith("· ana"), "the status line")

        # Signals and clusters: a dedup run from the command line shows in the Duplicates pane.
        await pilot.press("6")
        await wait_until(pilot, lambda: app.current_pane == "duplicates", "the Duplicates pane")
        assert app.query_one("#duplicates").clusters == []
        await _cli("dedup", *where, "--method", "exact")
        await wait_until(pilot, lambda: [c["members"] for c in app.query_one("#duplicates").clusters]
                         == [["ex-4", "ex-5"]], "the CLI's clusters in the Duplicates pane")
        assert app.session.status("ex-5") == "reject"  # the dedup run's proposal
        assert app.session.view_ids() == ["ex-2", "ex-3", "ex-4"]

        await pilot.press("1")
        await wait_until(pilot, lambda: app.current_pane == "browse", "the Browse pane")
        await pilot.press("r")  # ana rejects ex-3, where her cursor stayed
        await pilot.pause()
    app.session.close()
    with Workspace.open(wsp) as ws:
        assert {(d["row_id"], d["by"], d["status"]) for d in ws.annotations()} == {
            ("ex-0", "ana", "accept"), ("ex-0", "ben", "reject"), ("ex-1", "ben", "reject"),
            ("ex-3", "ana", "reject")}
