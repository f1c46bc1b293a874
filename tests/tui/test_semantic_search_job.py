"""A meaning search (`/?words`) embeds every row the first time: a job with live progress (rows,
rate, ETA) in Jobs, cancelled by `c` there or by esc, its embedded rows kept in the cache so
the next search embeds only the rest and the one after none (issue 15 items 2 and 8). The real
model embeds real rows."""

from __future__ import annotations

import re
import threading

import pytest

from tests.support.families import family_records
from tests.tui.conftest import ready
from workbench.data.dataset import Dataset
from workbench.explore import embed
from workbench.explore.embed import STEP_ROWS

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
ROWS = 384


def _state(app) -> tuple[str, str]:
    return app.operation_state("search") or ("", "")


def _counted(app) -> bool:
    """The running search has reported rows embedded, with a rate and an ETA."""
    status, detail = _state(app)
    m = re.search(r"embedding · ([\d,]+)/([\d,]+) rows · [\d.,]+/s · eta ", detail)
    return status == "running" and m is not None and int(m[1].replace(",", "")) >= STEP_ROWS


async def _start(pilot, query: str) -> None:
    await pilot.press("slash", *query, "enter")
    await pilot.pause()


async def test_meaning_search_is_a_job_with_progress_cancelled_by_c_and_esc_and_cached(
        make_app, wait_until, screen_text, monkeypatch):
    recs, _ = family_records(per_family=ROWS // 3)
    for i, r in enumerate(recs):  # every text distinct: each row is embedded once, counted once
        r["messages"][0]["content"] += f" (case {i})"
    app = make_app(dataset=Dataset.from_records(recs, sources=["families.jsonl"]))
    # The real model embeds, but a search to be cancelled waits before its second step until its
    # cancel comes: a quiet machine embedded all 384 rows before `c` landed, leaving the next
    # search nothing to count.
    hold, started, real = threading.Event(), set(), embed.embed_texts

    def held(texts, *args, **kw):
        cancel = app.op_cancels["search"]
        if hold.is_set() and cancel in started:
            cancel.wait(120)
        started.add(cancel)
        return real(texts, *args, **kw)

    monkeypatch.setattr(embed, "embed_texts", held)
    hold.set()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await _start(pilot, "?python function")
        await pilot.press("4")  # the Jobs pane: the search's line with its count, rate and ETA
        await wait_until(pilot, lambda: _counted(app), "the search's progress")
        await pilot.pause()
        assert re.search(r"search\s+running\s+'\?python function': embedding", screen_text(app))
        await pilot.press("c")
        await wait_until(pilot, lambda: _state(app)[0] == "cancelled", "the cancel by c")
        assert not app.session.filters.active() and app.running_work() == []

        await _start(pilot, "?python function")  # embeds on from the rows cached so far
        await wait_until(pilot, lambda: _counted(app), "the second search's progress")
        await pilot.press("escape")
        await wait_until(pilot, lambda: _state(app)[0] == "cancelled", "the cancel by esc")
        assert not app.session.filters.active()

        hold.clear()
        await _start(pilot, "?python function")
        await wait_until(pilot, lambda: _state(app)[0] == "done", "the third search", limit=600)
        embedded, cached = map(int, re.search(r"([\d,]+) rows embedded, ([\d,]+) from the cache",
                                              _state(app)[1]).groups())
        assert cached >= 2 * STEP_ROWS and embedded + cached == ROWS  # each cancel kept its steps
        await wait_until(pilot, lambda: "/?python function" in str(app.query_one("#status").render()), "the results")
        assert len(app.session) == 50

        await pilot.press("escape")
        await _start(pilot, "?harmful request")  # every row cached: nothing is embedded again
        await wait_until(pilot, lambda: _state(app)[0] == "done" and "harmful" in _state(app)[1], "the fourth search")
        assert "0 rows embedded, 384 from the cache" in _state(app)[1]
