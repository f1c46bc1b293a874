"""Pilot tests: every key of the workbench, checked against the real workspace file."""

from __future__ import annotations

import sqlite3

import pytest

from workbench.tui.widgets.row_list import RowList

SIZE = (80, 24)
pytestmark = pytest.mark.asyncio


async def _ready(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_move_keys(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        rl = app.query_one(RowList)
        await pilot.press("j", "j", "down")
        assert rl.cursor == 3
        await pilot.press("k", "up")
        assert rl.cursor == 1
        await pilot.press("G")
        assert rl.cursor == len(app.ds) - 1
        await pilot.press("g")
        assert rl.cursor == 0
        await pilot.press("pagedown")
        page = rl.cursor
        assert page > 5
        await pilot.press("pageup")
        assert rl.cursor == 0
        await pilot.press("end")
        assert rl.cursor == len(app.ds) - 1
        await pilot.press("home")
        assert rl.cursor == 0


async def test_accept_reject_reach_the_sqlite_file(make_app, ws):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("a")
        # Committed before the screen moved on: a separate connection sees it.
        with sqlite3.connect(ws.path) as db:
            assert ws.decision("r0")["status"] == "accept"
            assert db.execute("SELECT count(*) FROM decisions").fetchone()[0] == 1
        assert app.query_one(RowList).cursor == 1
        await pilot.press("r")
        assert ws.decision("r1")["status"] == "reject"
        assert app.query_one(RowList).cursor == 2
        assert "✓1 ✗1" in str(app.query_one("#status").render())


async def test_undo_and_redo(make_app, ws):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("a", "r")
        await pilot.press("u")
        assert ws.decision("r1") is None
        assert ws.decision("r0")["status"] == "accept"
        assert app.query_one(RowList).cursor == 1  # back on the undone row
        await pilot.press("U")
        assert ws.decision("r1")["status"] == "reject"
        assert app.model.status("r1") == "reject"


async def test_space_marks_and_bulk_accept_marked(make_app, ws):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("space", "j", "space")
        assert app.model.marked == {"r0", "r2"}
        await pilot.press("A")
        assert ws.statuses() == {"r0": "accept", "r2": "accept"}
        assert not app.model.marked
        await pilot.press("u")  # one undo step for the whole bulk decision
        assert ws.statuses() == {}


async def test_space_marks_and_moves_down_and_says_so(make_app, ws, screen_text):
    """Issue 15 (a curator's session: space moving down surprised): it stays mark-and-move-down,
    as in ranger, mc, nnn and VisiData's `s`, and the footer and help say it; the marked count
    is on the status line at 80 columns even with a filter's review progress beside it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert "␣ Mark↓" in screen_text(app).splitlines()[-1]
        await pilot.press("f", *"status=pending", "enter", "space", "space")
        assert app.row_list.cursor == 2 and app.model.marked == {"r0", "r1"}
        status_line = screen_text(app).splitlines()[-2]
        assert "●2 marked" in status_line and "left in this filter" in status_line
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Mark↓" in screen_text(app)


async def test_bulk_reject_on_filtered_rows(make_app, ws, screen_text):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("R")  # nothing marked, no filter: refuses
        assert ws.statuses() == {}
        await pilot.press("f")
        await pilot.press(*"kind=preference", "enter")
        assert len(app.model) == 1
        await pilot.press("R")  # a decision over a filter asks first, with the count
        assert "Reject all 1 rows of the filter kind=preference?" in screen_text(app)
        await pilot.press("n")
        assert ws.statuses() == {}
        await pilot.press("R", "y")
        assert ws.statuses() == {"pref1": "reject"}


async def test_bulk_on_marks_the_filter_hides_says_so(make_app, ws):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("space")  # marks r0 (sft)
        await pilot.press("f")
        await pilot.press(*"kind=preference", "enter")
        assert len(app.model) == 1 and app.model.marked == {"r0"}
        await pilot.press("A")  # the marks win over the filter, as the footer's "marked" says
        assert ws.statuses() == {"r0": "accept"}
        assert any("1 of them hidden by the filter" in n.message for n in app._notifications)


async def test_filter_by_status_and_escape_clears(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("a", "a", "r")
        await pilot.press("f", *"status=accept", "enter")
        assert app.session.view_ids() == ["r0", "r1"]
        assert "filter status=accept" in str(app.query_one("#status").render())
        await pilot.press("f", "ctrl+a", "ctrl+k", *"status=pending", "enter")
        assert len(app.model) == len(app.ds) - 3
        await pilot.press("escape")
        assert len(app.model) == len(app.ds)


async def test_bad_filter_is_reported_not_applied(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("f", *"status=maybe", "enter")
        await pilot.pause()
        assert len(app.model) == len(app.ds)
        assert any("status must be one of" in n.message for n in app._notifications)


async def test_filter_and_sort_by_signal(make_app, ws):
    run = ws.start_run("judge", {})
    ws.add_signals(run, [(f"r{i}", "judge.score", i % 5) for i in range(30)])
    ws.finish_run(run, "done", {})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("f", *"judge.score>=4", "enter")
        assert app.session.view_ids() == [f"r{i}" for i in range(30) if i % 5 == 4]
        await pilot.press("escape", "s")
        await pilot.pause()
        await pilot.press("down", "down", "down", "enter")  # length, turns and tokens come first, then judge.score
        await pilot.pause()
        ids = app.session.view_ids()
        assert [app.model.signal(i) for i in ids[:6]] == [4] * 6
        assert ids[-2:] == ["pref1", "tool1"]  # rows without the signal sort last
        assert "judge.score" in app.query_one("#browse-header").render().plain


async def test_search_filters_to_matches(make_app, wait_until):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("slash", *"zebra", "enter")
        # the search runs in a thread worker that may start only after the prompt closed
        await wait_until(pilot, lambda: "/zebra" in str(app.query_one("#status").render()), "the search's filter")
        assert app.session.view_ids() == ["pref1"]


async def test_the_filter_prompt_says_a_search_keeps_narrowing_the_list(make_app, wait_until, screen_text):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("slash", *"zebra", "enter")
        await wait_until(pilot, lambda: app.matches is not None, "the search")
        await pilot.press("f")
        await pilot.pause()
        assert "(and /zebra, which esc clears)" in " ".join(screen_text(app).split())


async def test_enter_opens_sample_and_panes_switch(make_app, screen_text):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("enter")
        assert app.current_pane == "sample"
        await pilot.press("j")  # j moves the row while reading
        await pilot.pause()
        assert "question 1: how do cats sleep?" in screen_text(app)
        for key, pane in (("3", "template"), ("4", "jobs"), ("5", "stats"), ("1", "browse")):
            await pilot.press(key)
            assert app.current_pane == pane
        await pilot.press("2", "escape")
        assert app.current_pane == "browse"


async def test_help_lists_every_binding_id(make_app, screen_text):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert type(app.screen).__name__ == "HelpScreen"
            text = screen_text(app)
            assert "Accept" in text and "cursor-down" in text
            await pilot.press("escape")
            await pilot.pause()
            assert type(app.screen).__name__ != "HelpScreen"
        await pilot.press("4", "question_mark")  # a pane's own keys are listed too
        await pilot.pause()
        assert "cancel-job" in [b.id for b in app.screen.bindings]


async def test_keymap_from_config_rebinds(make_app):
    from workbench.tui.config import save_config

    save_config(keymap={"accept": "y"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("a")
        assert app.model.status("r0") == "pending"
        await pilot.press("y")
        assert app.model.status("r0") == "accept"


async def test_a_rebound_key_shows_in_the_footer_the_help_and_the_palette(make_app, screen_text):
    """One action table: the keymap's key is bound, and the footer, the help screen and the
    palette entry all name it."""
    from workbench.tui.commands import workbench_commands
    from workbench.tui.config import save_config

    save_config(keymap={"accept": "y"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert "y Accept" in screen_text(app).splitlines()[-1]  # the footer
        entry = next(c for c in workbench_commands(app) if c.title == "accept-row")
        assert entry.help.endswith("(y)")
        await pilot.press("question_mark")
        await pilot.pause()
        row = next(line for line in screen_text(app).splitlines() if " accept " in line and "Accept " in line)
        assert row.split("│")[1].split()[0] == "y"
        # ... and the help lists every registered operation under its palette name
        from workbench.ops import registry

        assert [name for name, _ in app.screen.operations] == [f"run-{n}" for n in registry.names()]


async def test_quit_key(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_accept_on_a_full_disk_is_a_notice_and_the_row_stays_undecided(make_app, disk):
    from workbench.store.workspace import Workspace

    ws = Workspace.open(disk.path / "ws.sqlite")
    app = make_app(workspace=ws)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _ready(pilot)
            await pilot.press("a")
            assert ws.decision("r0")["status"] == "accept"
            disk.fill()
            await pilot.press("a", "a")  # the first may still fit in a free page
            await pilot.pause()
            assert app.is_running
            undecided = [r for r in ("r1", "r2") if ws.decision(r) is None]
            assert undecided and any("disk is full" in n.message and str(ws.path) in n.message
                                     for n in app._notifications)
            assert app.query_one(RowList).cursor == 1 + 2 - len(undecided)  # stays on the row not saved
            disk.free()
            await pilot.press("a")
            assert ws.decision(undecided[0])["status"] == "accept"
    finally:
        ws.close()


async def test_note_and_tags_on_e_show_in_browse_and_sample_and_undo_says_what(make_app, ws, screen_text):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await pilot.press("j", "e")
        await pilot.press(*"check the maths", "tab", *"math, recheck", "enter")
        d = ws.decision("r1")
        assert (d["note"], d["tags"], d["status"]) == ("check the maths", ["math", "recheck"], "pending")
        assert any(line.startswith("▶ ·✎") for line in screen_text(app).splitlines())  # Browse marks it
        await pilot.press("enter")  # the Sample pane shows note and tags
        text = screen_text(app)
        assert "check the maths" in text and "tags math, recheck" in text
        await pilot.press("1", "u")
        assert ws.decision("r1") is None
        assert any(n.message.startswith("undid the note/tags on row #1") for n in app._notifications)
        await pilot.press("e")  # reopened, the editor starts from what the row has (nothing now)
        await pilot.press(*"keep", "enter", "a")
        assert ws.decision("r1")["status"] == "accept" and ws.decision("r1")["note"] == "keep"
        await pilot.press("u")
        assert any(n.message.startswith("undid accept of row #1 (now pending)") for n in app._notifications)


async def test_review_progress_in_the_status_line(make_app, ws):
    app = make_app()
    async with app.run_test(size=(120, 24)) as pilot:
        await _ready(pilot)
        n = len(app.ds)
        status = lambda: str(app.query_one("#status").render())  # noqa: E731
        assert f"0 of {n} reviewed" in status() and "left in this filter" not in status()
        await pilot.press("a", "r")
        assert f"2 of {n} reviewed" in status()
        await pilot.press("f", *"kind=sft", "enter")
        sft = len(app.model)
        assert f"2 of {n} reviewed, {sft - 2} left in this filter" in status()
        await pilot.press("G", "a")  # the last sft row, still pending
        assert f"3 of {n} reviewed, {sft - 3} left in this filter" in status()
