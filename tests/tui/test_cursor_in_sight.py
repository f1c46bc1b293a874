"""Issue 15 (a curator's 80x24 session): after a filter change or clear, a sort change or a jump
the list scrolls so that the cursor's row is on screen, mid-screen when it had to scroll."""

from __future__ import annotations

import re

import pytest

from tests.tui.conftest import ready
from workbench.data.dataset import Dataset
from workbench.data.record import make_record

pytestmark = pytest.mark.asyncio
SIZE = (80, 24)
LIST_HEIGHT = 20  # 24 lines less the tabs, the list header, the status line and the footer


@pytest.fixture
def many():
    """200 rows, more than four screens at 80x24; their length grows with their number's digits."""
    return Dataset.from_records([make_record(id=f"r{i}", messages=[
        {"role": "user", "content": f"question {i}: how do cats sleep?"},
        {"role": "assistant", "content": f"answer {i}"}]) for i in range(200)], sources=["many.jsonl"])


def _cursor_line(app, screen_text) -> int:
    """The screen line (0: the list's first) whose row is under the cursor; fails when none is."""
    lines = [line for line in screen_text(app).splitlines() if re.match(r"^[▶ ][● ][✓✗·✎ ]\s*\d+ ", line)]
    at = [i for i, line in enumerate(lines) if line.startswith("▶")]
    assert at, f"the cursor's row #{app.current_row()} is not on screen"
    assert re.match(rf"^▶..\s*{app.current_row()} ", lines[at[0]])
    rows = app.row_list
    if rows.show_vertical_scrollbar:  # its thumb shows where the list is
        assert rows.vertical_scrollbar.position == rows.scroll_y
    return at[0]


def _mid_screen(line: int) -> bool:
    return abs(line - LIST_HEIGHT // 2) <= 1


async def test_search_then_escape_shows_the_cursor_row(make_app, many, wait_until, screen_text):
    app = make_app(dataset=many)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("slash", *"=question 150:", "enter")
        await wait_until(pilot, lambda: len(app.model) == 1, "the search's one row")
        await pilot.press("escape")  # clears the filter, the cursor staying on row 150
        await pilot.pause()
        assert app.current_row() == 150
        assert _mid_screen(_cursor_line(app, screen_text))


async def test_filter_change_and_clear_show_the_cursor_row(make_app, many, screen_text):
    app = make_app(dataset=many)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f", *"kind=sft", "enter", "G")  # the last sft row: the last row
        await pilot.press("f", "ctrl+a", "ctrl+k", "enter")  # an empty filter clears it
        await pilot.pause()
        assert app.current_row() == len(many) - 1
        _cursor_line(app, screen_text)  # the last row: at the bottom, as far as the list scrolls
        await pilot.press("g")
        await pilot.press("f", *"kind=sft", "enter")  # from the top of a list with all rows to a filter
        await pilot.press("f", "ctrl+a", "ctrl+k", *"status=pending", "enter")
        assert app.current_row() == 0 and _cursor_line(app, screen_text) == 0


async def test_sort_change_shows_the_cursor_row(make_app, many, screen_text):
    app = make_app(dataset=many)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press(*"j" * 57)  # row 57: after the 100 longest rows sorted
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")  # length, the picker's first entry
        await pilot.pause()
        assert app.current_row() == 57 and app.session.sort_by == "length"
        assert app.row_list.cursor > 100 and _mid_screen(_cursor_line(app, screen_text))
        await pilot.press("S")  # the reverse: the row moves again
        await pilot.pause()
        assert app.current_row() == 57 and app.row_list.cursor < 100 and _mid_screen(_cursor_line(app, screen_text))


async def test_a_jump_to_a_far_row_shows_it_mid_screen(make_app, many, wait_until, screen_text):
    app = make_app(dataset=many)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("slash", *"=question 1", "enter")  # 1, 10-19, 100-199
        await wait_until(pilot, lambda: app.matches is not None, "the search")
        await pilot.press("escape", "N")  # the previous match from row 0 wraps to the last: 199
        await pilot.pause()
        assert app.current_row() == 199
        _cursor_line(app, screen_text)
        await pilot.press("g")
        app.goto_row(120)  # what the panes call (a topic's row, a duplicate)
        await pilot.pause()
        assert app.current_row() == 120 and _mid_screen(_cursor_line(app, screen_text))
