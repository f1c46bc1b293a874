"""The pane tabs follow the terminal's width at once: long titles when it grows, short ones when
it shrinks (they lagged one resize behind: drawn for the width before the resize)."""

from __future__ import annotations

import pytest

from tests.tui.conftest import ready

pytestmark = pytest.mark.asyncio


async def test_tabs_are_redrawn_for_the_new_width(make_app, screen_text):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        first = lambda: screen_text(app).splitlines()[0]  # noqa: E731
        assert "2Sample" in first() and "Duplicates" not in first()
        await pilot.resize_terminal(140, 30)
        await pilot.pause()
        assert "2 Sample" in first() and "6 Duplicates" in first() and "9 Workshop" in first()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "2Sample" in first() and "9Jinja" in first() and len(first().rstrip()) <= 80
