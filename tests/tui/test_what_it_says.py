"""What the app says after a search, a redo and on quitting with work running, as a curator
read it (their session: "exact search: 641 rows for '=as an AI'" read as 641 matches; "redid
pending of row #2 (now accept)"; a quit question that said nothing was saved, then that
something resumes)."""

from __future__ import annotations

import threading

import pytest

from tests.tui.conftest import ready
from workbench.tui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.asyncio


def _said(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_search_says_how_many_rows_match_the_query_in_every_mode(make_app, wait_until):
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await ready(pilot)
        for query, mode, n in (("=Answer 1", "exact", 11), ("~answer 1\\d", "regex", 10), ("anser 1", "fuzzy", 12)):
            app.clear_notifications()
            await pilot.press("slash", *query, "enter")
            await wait_until(pilot, lambda: any("match" in m for m in _said(app)), "the search")
            said = _said(app)
            assert said[0] == f"searching {len(app.ds)} rows for {query} ({mode}) …", said
            assert said[-1] == f"{n} rows match {query} (esc clears, n / N walk them)", said
            await pilot.press("escape")
        app.clear_notifications()
        await pilot.press("slash", *"=no such text", "enter")
        await wait_until(pilot, lambda: any("match" in m for m in _said(app)), "the search")
        assert _said(app)[-1] == "no row matches =no such text"


async def test_undo_and_redo_say_what_they_did(make_app):
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await ready(pilot)
        await pilot.press("j", "j", "a", "u")
        assert _said(app)[-1] == "undid accept of row #2 (now pending) (u undo · U redo)"
        await pilot.press("U")
        assert _said(app)[-1] == "redid: accept row #2 (u undo · U redo)"
        await pilot.press("k", "space", "j", "space", "R")  # rows 1 and 2 marked, rejected in bulk
        await pilot.pause()
        await pilot.press("u", "U")
        assert _said(app)[-1] == "redid: reject 2 rows (u undo · U redo)"


async def test_the_quit_question_says_what_is_kept_and_what_is_not(make_app, wait_until):
    app = make_app()
    held, gate = threading.Event(), threading.Event()

    def work(i: int):
        held.set()
        gate.wait(30)
        return i

    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        job = app.run_job("judge", [("r0", 0)], work)
        await wait_until(pilot, held.is_set, "the job to run")
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the quit question")
        question = app.screen.question
        assert question.startswith("judge is running. Quit now? It is cancelled and its result is not saved")
        assert "Kept: the rows an LLM already answered" in question and "nothing" not in question
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmScreen)
        gate.set()
        job.wait(30)
        await wait_until(pilot, lambda: any(m.startswith("judge: done") for m in _said(app)), "the job's end")
