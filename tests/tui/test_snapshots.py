"""SVG snapshots of the main screens at a fixed size (Textual is pinned exactly, the cursor
does not blink in tests). Update after a deliberate change with `pytest --snapshot-update`."""

from __future__ import annotations

import pytest

from workbench.tui.config import save_config


@pytest.fixture(autouse=True)
def _settings():
    save_config(token_counts=False)


async def _ready(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _at(row_id, *keys):
    async def run_before(pilot):
        await _ready(pilot)
        app = pilot.app
        await pilot.press("a", "r", "j", "space")
        if row_id:
            app.goto_row(app.ds.index_of(row_id))
        await pilot.press(*keys)
        await pilot.pause()
        for w in app.screen.query("Input"):
            w.cursor_blink = False
    return run_before


def test_browse_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_at(None))


def test_browse_light_120x40(snap_compare, make_app):
    assert snap_compare(make_app(theme="light"), terminal_size=(120, 40), run_before=_at(None))


def test_browse_high_contrast_80x24(snap_compare, make_app):
    assert snap_compare(make_app(theme="high-contrast"), terminal_size=(80, 24), run_before=_at(None))


def test_sample_preference_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_at("pref1", "2"))


def test_template_chatml_80x24(snap_compare, make_app):
    async def run_before(pilot):
        pilot.app.template_name = "chatml"
        await _at("r1", "3")(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_stats_80x24(snap_compare, make_app):
    async def run_before(pilot):
        await _at(None, "5")(pilot)
        await _ready(pilot)  # the pane computes its statistics in a thread worker

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_help_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_at(None, "question_mark"))


def test_filter_prompt_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_at(None, "f"))
