"""Browse sorts any column both ways and keeps the cursor on its row; scores filter, sort and
threshold ("reject all below X": one confirmed, undoable step); several files show a source
column and filter by `source=`; one row number in Browse, Sample and the CLI."""

from __future__ import annotations

import re

import pytest

from workbench.cli import main
from workbench.data.dataset import Dataset
from workbench.explore.stats import row_tokens
from workbench.store.workspace import Workspace

pytestmark = pytest.mark.asyncio
SIZE = (80, 24)


async def _opened(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _pick(pilot, name: str) -> None:
    """Choose `name` in the open picker, as arrow keys then enter would."""
    from textual.widgets import OptionList

    screen = pilot.app.screen
    screen.query_one(OptionList).highlighted = screen.names.index(name)
    await pilot.press("enter")
    await pilot.pause()


def _judge(ws, scores: dict[str, float]) -> None:
    run = ws.start_run("judge", {})
    ws.add_signals(run, [(rid, "judge.score", s) for rid, s in scores.items()])
    ws.finish_run(run, "done", {})


def _shown_numbers(text: str) -> list[int]:
    """The row numbers of the Browse lines on screen."""
    return [int(m.group(1)) for m in re.finditer(r"^[▶ ][● ][✓✗·]\s+(\d+) ", text, re.M)]


async def test_sort_by_length_both_ways_cursor_stays_on_its_row(make_app, ds, screen_text):
    app = make_app()
    lengths = ds.column("length")
    async with app.run_test(size=SIZE) as pilot:
        await _opened(pilot)
        await pilot.press("j", "j", "j")
        row = app.current_row()
        await pilot.press("s")
        await _pick(pilot, "length")
        assert app.current_row() == row  # the cursor stays on the row it was on
        assert "len↓" in screen_text(app) and "sort length↓" in screen_text(app)
        order = [app.model.index(p) for p in range(len(app.model))]
        assert [lengths[i] for i in order] == sorted(lengths, reverse=True)
        await pilot.press("S")  # reverse
        await pilot.pause()
        order = [app.model.index(p) for p in range(len(app.model))]
        assert [lengths[i] for i in order] == sorted(lengths)
        assert "len↑" in screen_text(app) and app.current_row() == row
        await pilot.press("s")
        await _pick(pilot, "length")  # the same key again reverses too
        assert app.session.sort_descending and app.current_row() == row
        await pilot.press("s")
        await _pick(pilot, "turns")
        turns = [ds.column("n_turns")[app.model.index(p)] for p in range(len(app.model))]
        assert turns == sorted(turns, reverse=True) and "trn↓" in screen_text(app)
        await pilot.press("s")
        await _pick(pilot, "tokens")  # counted by the real tokenizer in a worker, then sorted
        await app.workers.wait_for_complete()
        await pilot.pause()
        counted = row_tokens(ds)
        shown = [app.model.signal(app.model.row_id(p)) for p in range(len(app.model))]
        assert shown == [int(counted[app.model.index(p)]) for p in range(len(app.model))]
        assert shown == sorted(counted.tolist(), reverse=True) and "tokens↓" in screen_text(app)
        await pilot.press("S")
        await pilot.pause()
        assert [app.model.signal(app.model.row_id(p)) for p in range(len(app.model))] == sorted(counted.tolist())
        assert app.current_row() == row


async def test_score_filter_sort_and_clearing_the_filter_keeps_the_row(make_app, ws, screen_text):
    _judge(ws, {f"r{i}": i % 5 + 1 for i in range(30)})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _opened(pilot)
        await pilot.press("f")
        await pilot.press("ctrl+u", *"judge.score>=4", "enter")
        await pilot.pause()
        assert len(app.model) == 12 and "judge.score" in screen_text(app)
        await pilot.press("s")
        await _pick(pilot, "judge.score")
        scores = [app.session.signal_values("judge.score")[app.model.row_id(p)] for p in range(len(app.model))]
        assert scores == sorted(scores, reverse=True) and "judge.score↓" in screen_text(app)
        await pilot.press("j", "j", "j", "j")
        row = app.current_row()
        await pilot.press("escape")  # clears filter and sort: the cursor stays on its row
        await pilot.pause()
        assert len(app.model) == 32 and app.current_row() == row
        assert app.model.index(app.row_list.cursor) == row


async def test_reject_all_below_asks_with_the_count_and_one_undo_restores_it(make_app, ws, screen_text,
                                                                             run_from_palette):
    _judge(ws, {f"r{i}": i % 5 + 1 for i in range(30)})  # six rows each of 1..5
    run = ws.start_run("map", {})  # numbers that judge nothing: not offered
    ws.add_signals(run, [(f"r{i}", name, i) for i in range(30) for name in ("cluster", "map_x", "map_y")])
    ws.finish_run(run, "done", {})
    ws.decide("r0", "accept")  # a person's decision stays
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _opened(pilot)
        await run_from_palette(pilot, "reject-all-below")
        assert app.screen.names == ["judge.score"]
        await _pick(pilot, "judge.score")
        await pilot.press(*"3", "enter")
        await pilot.pause()
        assert "Reject 11 rows whose judge.score is below 3?" in screen_text(app)  # 12 minus r0
        await pilot.press("n")
        await pilot.pause()
        assert app.session.counts()["reject"] == 0  # no: nothing happened
        await run_from_palette(pilot, "reject-all-below")
        await _pick(pilot, "judge.score")
        await pilot.press(*"3", "enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.session.counts()["reject"] == 11 and app.session.status("r0") == "accept"
        assert "✗11" in screen_text(app)
        assert sum(1 for s in ws.statuses().values() if s == "reject") == 11  # in the workspace
        await pilot.press("u")
        await pilot.pause()
        assert app.session.counts()["reject"] == 0 and "✗0" in screen_text(app)
        assert any("undid reject of 11 rows" in n.message for n in app._notifications)


async def test_source_column_and_filter_with_several_files(tmp_path, two_files, screen_text, run_from_palette):
    from workbench.tui.app import WorkbenchApp

    a, b = two_files
    ds = Dataset.open([str(a), str(b)])
    ws = Workspace.open(tmp_path / "ws.sqlite")
    app = WorkbenchApp(dataset=ds, workspace=ws)
    async with app.run_test(size=SIZE) as pilot:
        await _opened(pilot)
        text = screen_text(app)
        assert "source" in text.splitlines()[1]  # the header names the column
        assert "alpha " in text and "beta " in text
        await pilot.press("f")
        await pilot.press("ctrl+u", *"source=beta", "enter")
        await pilot.pause()
        assert _shown_numbers(screen_text(app)) == [4, 5, 6] and "alpha " not in screen_text(app)
        await pilot.press("f")
        await pilot.press("ctrl+u", *"source=gamma", "enter")
        await pilot.pause()
        assert any("no source called 'gamma'" in n.message for n in app._notifications)
        assert len(app.model) == 3  # the view stays
        await pilot.press("escape")
        await pilot.pause()
        await run_from_palette(pilot, "filter-source-alpha")
        assert _shown_numbers(screen_text(app)) == [0, 1, 2, 3]
    ws.close()


async def test_one_row_number_in_browse_sample_and_cli(tmp_path, two_files, screen_text):
    from workbench.tui.app import WorkbenchApp

    a, b = two_files
    ds = Dataset.open([str(a), str(b)])
    ws_path = tmp_path / "ws.sqlite"
    ws = Workspace.open(ws_path)
    app = WorkbenchApp(dataset=ds, workspace=ws)
    async with app.run_test(size=SIZE) as pilot:
        await _opened(pilot)
        assert _shown_numbers(screen_text(app))[:3] == [0, 1, 2]  # the first row is #0, as the CLI counts
        await pilot.press("G")  # the last row, from the second file
        await pilot.pause()
        line = next(l for l in screen_text(app).splitlines() if l.startswith("▶"))
        number = _shown_numbers(line)[0]
        row_id = app.model.row_id(app.row_list.cursor)
        await pilot.press("enter")  # the Sample pane
        await pilot.pause()
        assert f"#{number}  {row_id}" in screen_text(app)
    ws.close()
    for given in (str(number), f"#{number}"):  # the number as copied decides the same row
        assert main(["decide", str(a), str(b), "--workspace", str(ws_path), "--row", given, "--reject"]) == 0
        with Workspace.open(ws_path) as w:
            assert w.statuses() == {row_id: "reject"}
            w.undo()


async def test_a_long_signal_name_heads_its_column_by_its_own_name(make_app, ws, screen_text):
    """The column header keeps the start of a long signal's own name (it showed 'istic.language',
    cut from the left)."""
    run = ws.start_run("score-heuristics", {})
    ws.add_signals(run, [(f"r{i}", "heuristic.language_confidence", i / 30) for i in range(30)])
    ws.finish_run(run, "done", {})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _opened(pilot)
        await pilot.press("s")
        await _pick(pilot, "heuristic.language_confidence")
        header = screen_text(app).splitlines()[1]
        assert "language_con…↓" in header and "istic" not in header
