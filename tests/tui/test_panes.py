"""Pilot tests of each pane's content: sample, template preview, jobs, themes, palette (Stats: test_stats_pane.py)."""

from __future__ import annotations

import re
import threading

import pytest

from workbench.tui.config import load_config, save_config

SIZE = (100, 30)
pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def _no_token_counts():
    save_config(token_counts=False)  # no tokenizer load in these tests (see test_template_token_counts)


async def _ready(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _goto(pilot, row_id):
    app = pilot.app
    app.goto_row(app.ds.index_of(row_id))
    await pilot.pause()


async def test_sample_shows_preference_pair_side_by_side(make_app, screen_text):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await _goto(pilot, "pref1")
        await pilot.press("2")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        pair = next(line for line in lines if "chosen" in line)
        assert "rejected" in pair  # both headings on one line: side by side
        assert any("the striped one" in line and "the spotted one" in line for line in lines)


async def test_sample_shows_tool_calls_reasoning_and_signals(make_app, ws, screen_text):
    run = ws.start_run("judge", {})
    ws.add_signals(run, [("tool1", "judge.score", 4)])
    ws.finish_run(run, "done", {})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await _goto(pilot, "tool1")
        await pilot.press("2")
        await pilot.pause()
        text = screen_text(app)
        assert "get_weather" in text and "Paris" in text
        assert "judge.score" in text
        assert "reply to c1" in text
        await _goto(pilot, "r1")
        await pilot.pause()
        text = screen_text(app)
        assert "reasoning" in text and "**bold**" in text  # text as it is (m renders markdown)


async def test_sample_shows_current_signals_below_the_text(make_app, ws, screen_text):
    """Two map runs wrote the row's topic: only the latest shows, and below the turns, so that at
    80x24 the text is what the pane opens on."""
    for topic, x in (("old topic", 0.1), ("new topic", 0.2)):
        run = ws.start_run("map", {})
        ws.add_signals(run, [("r0", "cluster", 1), ("r0", "topic", topic), ("r0", "map_x", x), ("r0", "map_y", x)])
        ws.finish_run(run, "done", {})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await _goto(pilot, "r0")
        await pilot.press("2")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        text_at = next(i for i, line in enumerate(lines) if "answer 0 with" in line)
        signals_at = next(i for i, line in enumerate(lines) if "new topic" in line)
        assert text_at < signals_at
        assert "topic new topic" in lines[signals_at] and "map_x 0.2" in lines[signals_at]  # one line for map's
        assert not any("old topic" in line or "0.1" in line for line in lines)


async def test_template_preview_marks_and_errors(make_app, screen_text):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("t")
        await pilot.pause()
        picker = app.screen
        names = picker.names
        assert "chatml" in names
        for _ in range(names.index("chatml")):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_pane == "template" and app.template_name == "chatml"
        text = screen_text(app)
        assert "<|im_start|>user" in text and "question 0: how do dogs sleep?" in text
        pane = app.query_one("#template")
        r = pane._renderings[0]
        assert any(trained for *_, trained in r.spans)
        # A template that rejects the system role shows the error in place.
        app.template_name = "gemma"
        pane.refresh_pane()
        await pilot.pause()
        err = [x for x in pane._renderings if x.error]
        assert err, "gemma renders a system prompt without complaint?"
        assert "template error" in screen_text(app)


async def test_jobs_pane_progress_errors_and_cancel(make_app, screen_text, wait_until):
    app = make_app()
    held, gate = threading.Event(), threading.Event()

    def work(i: int):
        if i == 1:
            raise ValueError("row one is bad")
        if i >= 3:
            held.set()
            gate.wait(30)  # hold the job so it can be cancelled
        return i

    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        job = app.run_job("demo", [(f"r{i}", i) for i in range(8)], work, concurrency=1)
        await pilot.press("4")
        # one worker: rows 0-2 are done (row 1 failed) once row 3 holds the job
        await wait_until(pilot, lambda: held.is_set() and "running" in screen_text(app), "the job held on row 3")
        assert "demo" in screen_text(app)
        await pilot.press("c")
        gate.set()
        result = job.wait(30)
        await wait_until(pilot, lambda: "cancelled" in screen_text(app), "the cancelled job on screen")
        text = screen_text(app)
        assert result.status == "cancelled"
        assert "cancelled" in text
        assert "1 failed" in text
        assert "row one is bad" in text  # per-row errors of the selected job


async def test_jobs_pane_lists_runs_recorded_before_the_session(make_app, ws, screen_text):
    run = ws.start_run("dedup-minhash", {"threshold": 0.5})  # as `workbench dedup` would have
    ws.finish_run(run, "done", {"rows": 138, "rejects": 1})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("4")
        await pilot.pause()
        text = screen_text(app)
        assert f"#{run} dedup-minhash" in text and "done" in text and "138 rows" in text


async def test_theme_from_flag_palette_and_remembered(make_app):
    app = make_app(theme="light")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.theme == "light"
        assert {"dark", "light", "high-contrast"} <= set(app.available_themes)
        app.theme = "high-contrast"
        await pilot.pause()
    assert load_config()["theme"] == "high-contrast"
    app2 = make_app()
    async with app2.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app2.theme == "high-contrast"


async def test_user_theme_file_and_bad_theme_file(make_app, _workbench_home):
    themes = _workbench_home / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\n')
    (themes / "broken.toml").write_text('name = "broken"\nprimary = \n')
    app = make_app(theme="mine")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.theme == "mine"
        assert any("broken.toml" in n.message for n in app._notifications)


async def test_command_palette_lists_long_names_and_runs_them(make_app, run_from_palette, wait_until):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        names = {c.title for c in app.get_system_commands(app.screen)}
        for n in ("accept-row", "reject-row", "undo-decision", "search-text", "filter-rows", "pick-template",
                  "pick-theme", "show-pane-stats", "filter-status-pending", "filter-kind-preference",
                  "set-theme-light"):
            assert n in names
        await run_from_palette(pilot, "accept-row")
        await wait_until(pilot, lambda: app.ws.decision("r0") is not None, "the decision from the palette")
        assert app.ws.decision("r0")["status"] == "accept"


async def test_no_color_still_shows_status_and_cursor(make_app, screen_text, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("a", "r")
        text = screen_text(app)
        assert "✓" in text and "✗" in text and "▶" in text


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_notifications_leave_the_status_line_and_footer_visible(make_app, screen_text, size):
    from textual.widgets._toast import Toast

    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await _ready(pilot)
        for i in range(3):
            app.notify(f"notice {i} " + "that wraps over lines " * 4)
        await pilot.pause()
        toasts = [t.region for t in app.screen.query(Toast)]
        assert len(toasts) == 3
        status = app.query_one("#status").region
        assert status.y == size[1] - 2 and not any(t.overlaps(status) for t in toasts)
        lines = screen_text(app).splitlines()
        assert "0 of 32 reviewed" in lines[-2] and "palette" in lines[-1]


MOVES = ["j", "k", "down", "up", "pagedown", "pageup", "G", "g", "end", "home"]


async def test_movement_keys_act_on_the_pane_shown_never_on_a_hidden_row(make_app, ws):
    """In a pane that does not show the row under the Browse cursor, the movement keys scroll
    that pane (or move its own list), else do nothing; where the pane shows the row (Sample,
    Template, Workshop) they move to another row, and the pane follows."""
    from workbench.tui.app import PANES

    run = ws.start_run("judge", {})  # a score histogram: the Stats pane is taller than 80x24
    ws.add_signals(run, [(f"r{i}", "judge.score", i % 5 + 1) for i in range(30)])
    ws.finish_run(run, "done", {})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("slash", "~", ".", "enter")  # every row matches: n and N have somewhere to go
        await _ready(pilot)
        assert len(app.matches) == len(app.session.view) > 6
        for pane in PANES[1:]:
            await pilot.press(pane.key)
            await _ready(pilot)
            if pane.id == "workshop":
                await pilot.press("escape")  # out of the editor, where j and k are text
            for key in MOVES + ["n", "N"]:  # n / N: the next / previous search match
                app.row_list.go(5)
                await pilot.press(key)
                await pilot.pause()
                assert (app.row_list.cursor != 5) == pane.shows_row, (pane.id, key)
        app.row_list.go(5)
        await pilot.press("5")
        await _ready(pilot)
        stats = app.query_one("#stats")
        assert stats.max_scroll_y > 0  # at 80x24 the histograms go on below
        await pilot.press("j", "j", "j")
        await pilot.pause(0.5)  # the scroll is animated
        assert stats.scroll_y > 0 and app.row_list.cursor == 5
        await pilot.press("G")
        await pilot.pause(0.5)
        assert stats.scroll_y == stats.max_scroll_y and app.row_list.cursor == 5


ROW_KEYS = {"a": "accept-row", "r": "reject-row", "space": "toggle-mark", "e": "edit-note-and-tags",
            "A": "accept-marked-or-filtered", "R": "reject-marked-or-filtered"}  # key: its palette name


async def test_row_keys_act_only_where_the_pane_shows_the_row(make_app, ws, screen_text):
    """a, r, space, e, A and R decide, mark or annotate the row under the Browse cursor (or its
    marks): in a pane that does not show that row the footer and the palette do not offer them and
    they change nothing (a pane's own a/r, as in Duplicates and Gen, act on what it shows)."""
    from workbench.tui.app import PANES
    from workbench.tui.commands import workbench_commands

    on_row = set(ROW_KEYS.values())
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("space")  # r0 marked: A/R would decide it
        for pane in PANES[1:]:
            await pilot.press(pane.key)
            await _ready(pilot)
            if pane.id == "workshop":
                await pilot.press("escape")  # out of the editor, where the keys are text
                await pilot.pause()
            bound = app.screen.active_bindings
            offered = {k for k in ROW_KEYS if k in bound and bound[k].node is app}
            assert offered == (set(ROW_KEYS) if pane.shows_row else set()), pane.id
            named = {c.title for c in workbench_commands(app)}
            assert (on_row <= named) if pane.shows_row else not (on_row & named), pane.id
            if pane.shows_row:
                continue
            footer = screen_text(app).splitlines()[-1]
            assert not re.search(r"\bAccept(?! generated)|\bReject(?! generated)|\bMark\b", footer), (pane.id, footer)
            for key in ROW_KEYS:
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is app.screen_stack[0], (pane.id, key)  # no note editor, no confirmation
            assert ws.statuses() == {} and ws.decision("r1") is None and app.model.marked == {"r0"}, pane.id
        await pilot.press("2", "a")  # the Sample pane shows the row: a decides it
        await pilot.pause()
        assert ws.statuses() == {"r1": "accept"}
