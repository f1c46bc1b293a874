"""The TUI decides as its annotator: it opens on their assigned rows (the `mine` filter), the
name is in the status line, the decision is recorded as theirs on a real SQLite workspace."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.asyncio


async def test_tui_decides_as_its_annotator(tmp_path, wait_until):
    import json

    from workbench.store.workspace import Workspace
    from workbench.tui.app import WorkbenchApp

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": f"ex-{i}", "messages": [
        {"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a {i}"}]}) + "\n" for i in range(4)))
    wsp = tmp_path / "ws.sqlite"
    with Workspace.open(wsp) as ws:
        ws.decide("ex-0", "reject", by="ben")
        ws.assign({"ana": ["ex-1", "ex-3"], "ben": ["ex-0"]})
    app = WorkbenchApp([str(data)], workspace_path=str(wsp), user="ana")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model is not None, "the dataset to open")
        assert app.session.view_ids() == ["ex-1", "ex-3"]  # she opens on her queue
        await pilot.press("a")
        await pilot.pause()
        line = str(app.query_one("#status").render())
        assert "filter mine" in line and line.endswith("· ana")
    app.session.close()
    with Workspace.open(wsp) as ws:
        assert {(d["row_id"], d["by"], d["status"]) for d in ws.annotations()} == {
            ("ex-0", "ben", "reject"), ("ex-1", "ana", "accept")}


async def test_a_served_session_asks_for_its_annotator_name(tmp_path, wait_until, screen_text):
    """`workbench serve` starts each browser session with --ask-user: the app asks for a name
    before it opens the dataset, asks again for a bad one, and decides under the name given."""
    import json

    from workbench.store.workspace import Workspace
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.prompt import PromptScreen

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": f"ex-{i}", "messages": [
        {"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a {i}"}]}) + "\n" for i in range(3)))
    wsp = tmp_path / "ws.sqlite"
    app = WorkbenchApp([str(data)], workspace_path=str(wsp), ask_user=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), "the name prompt")
        assert app.model is None  # nothing is opened before the name
        await pilot.press(*"ana b", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen) and "without commas" in screen_text(app),
                         "the prompt again, saying why")
        await pilot.press(*"chen", "enter")
        await wait_until(pilot, lambda: app.model is not None, "the dataset to open")
        await pilot.press("a")
        await wait_until(pilot, lambda: str(app.query_one("#status").render()).endswith("· chen"), "the name shown")
    app.session.close()
    with Workspace.open(wsp) as ws:
        assert [(d["row_id"], d["by"], d["status"]) for d in ws.annotations()] == [("ex-0", "chen", "accept")]


async def test_escape_at_the_name_prompt_ends_the_session(tmp_path, wait_until):
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.prompt import PromptScreen

    data = tmp_path / "d.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n')
    app = WorkbenchApp([str(data)], workspace_path=str(tmp_path / "ws.sqlite"), ask_user=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), "the name prompt")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.is_running, "the app to end")
    assert app.session is None and not (tmp_path / "ws.sqlite").exists()  # nothing opened, nothing written
