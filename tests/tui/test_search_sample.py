"""Pilot tests: the search modes, highlights and n / N (issue 15 item 8); the Sample pane's raw
text, markdown and whitespace toggles (item 10)."""

from __future__ import annotations

import pytest

from tests.tui.conftest import ready
from tests.test_search import PHRASE_ROWS, phrase_records
from workbench.data.dataset import Dataset
from workbench.data.record import make_record

SIZE = (80, 24)
pytestmark = pytest.mark.asyncio


async def _search(pilot, wait_until, query: str) -> None:
    app = pilot.app
    await pilot.press("slash", *query, "enter")
    await wait_until(pilot, lambda: f"/{query}" in str(app.query_one("#status").render()), "the search's filter")


def _matched_text(app) -> list[str]:
    """The text the Browse list draws in the match style, line by line."""
    from workbench.tui.widgets.row_list import RowList

    rl = app.query_one(RowList)
    match = rl.styles_for_rows()["match"]
    out = []
    for y in range(min(len(app.model), rl.scrollable_content_region.height)):
        out += [seg.text for seg in rl.render_line(y) if seg.style and seg.style.bgcolor == match.bgcolor]
    return out


async def test_exact_search_keeps_the_rows_with_the_phrase(make_app, wait_until, ws):
    ds = Dataset.from_records(phrase_records(), sources=["phrase.jsonl"])
    app = make_app(dataset=ds)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _search(pilot, wait_until, "as an AI language model")
        assert len(app.session) == 16  # fuzzy: every row with the words
        await pilot.press("escape")
        await _search(pilot, wait_until, "=as an AI language model")
        assert sorted(app.session.view) == sorted(PHRASE_ROWS)


async def test_search_highlights_in_browse_and_sample_and_n_walks_matches(make_app, wait_until, screen_text):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _search(pilot, wait_until, "~(cats|zebra)")
        assert len(app.session) == 16  # 15 odd rows with cats, the zebra pair
        assert set(_matched_text(app)) == {"cats", "zebra"}
        await pilot.press("escape")  # the filter goes, the matches stay for n / N
        await pilot.pause()
        assert len(app.session) == 32 and app.current_row() == 1  # the cursor stays on its row
        await pilot.press("g", "n")
        assert app.current_row() == 1
        await pilot.press("n", "n")
        assert app.current_row() == 5
        await pilot.press("N")
        assert app.current_row() == 3
        await pilot.press("g", "N")  # from the top, back to the last match: wraps
        assert app.ds.ids[app.current_row()] == "pref1"
        await pilot.press("2")
        await pilot.pause()
        line = next(strip for strip in app.screen._compositor.render_strips() if "which zebra" in strip.text)
        bg = {seg.text: seg.style.bgcolor for seg in line}
        assert bg["zebra"] != bg["which "] and bg["which "] == bg[" answer is better"]  # only the match stands out


async def test_bad_regex_is_a_notice(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("slash", *"~(oops", "enter")
        await pilot.pause()
        assert any("bad regex" in n.message for n in app._notifications)
        assert not app.session.filters.active()
        await pilot.press("n")
        await pilot.pause()
        assert any("no search yet" in n.message for n in app._notifications)


async def test_regex_search_is_echoed_as_typed(make_app, wait_until):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _search(pilot, wait_until, r"~answer \d+")  # typed: ~answer \d+ (one backslash)
        said = [n.message for n in app._notifications]
        assert any("30 rows match ~answer \\d+" in m for m in said), said
        assert not any("\\\\" in m for m in said)  # no doubled backslash anywhere
        assert "filter /~answer \\d+" in str(app.query_one("#status").render())
        await pilot.press("escape")
        app.clear_notifications()
        await pilot.press("slash", *r"~(\d", "enter")
        await pilot.pause()
        assert [n.message for n in app._notifications][0].startswith("bad regex '(\\d': ")
        app.clear_notifications()
        app._search("~zz\x07")  # a control character typed into the query shows as a stand-in (visible)
        await wait_until(pilot, lambda: any("no row matches" in n.message for n in app._notifications), "the search")
        assert "no row matches ~zz\u2407" in [n.message for n in app._notifications][-1]


GSM8K = "Natalia sold 48 clips.\n1. In April: 48\n2. In May: 24\n\tthen  more\u00a0\n#### 72"


async def test_sample_shows_raw_text_and_toggles(make_app, screen_text):
    ds = Dataset.from_records([make_record(id="g1", messages=[
        {"role": "user", "content": "How many clips?"}, {"role": "assistant", "content": GSM8K}])],
        sources=["gsm8k.jsonl"])
    app = make_app(dataset=ds)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
        await pilot.pause()
        text = screen_text(app)
        assert "#### 72" in text and "1. In April: 48" in text and "raw text" in text
        assert "Markdown" in text and "Whitespace" in text  # the footer names the toggles
        await pilot.press("m")
        await pilot.pause()
        text = screen_text(app)
        assert "#### 72" not in text and "72" in text and "markdown" in text  # a heading now
        await pilot.press("m", "w")
        await pilot.pause()
        text = screen_text(app)
        assert "####·72" in text and "1.·In·April:·48↵" in text and "→then··more⍽↵" in text


# the spellings the readers know (workbench.data.record.INLINE_REASONING); a block's tags, and the
# GRPO answer's, read as HTML to a markdown parser, which drops them with what they hold
REASONING_SPELLINGS = {"think": "<think>\nfirst plan 0\n</think>\n\nthe **answer** 0",
                       "thought": "<|begin_of_thought|>\nfirst plan 1\n<|end_of_thought|>\n\nthe **answer** 1",
                       "grpo": "<reasoning>\nfirst plan 2\n</reasoning>\n<answer>\nthe **answer** 2\n</answer>"}


def _answered(text: str) -> Dataset:
    """One row whose answer is `text`."""
    return Dataset.from_records([make_record(id="t1", messages=[
        {"role": "user", "content": "plan it"}, {"role": "assistant", "content": text}])], sources=["r1.jsonl"])


async def _markdown_lines(pilot, screen_text) -> list[str]:
    """The screen's lines with the row in the Sample pane (2), markdown on (m)."""
    await ready(pilot)
    await pilot.press("2", "m")
    await pilot.pause()
    return screen_text(pilot.app).splitlines()


@pytest.mark.parametrize("spelling", REASONING_SPELLINGS)
async def test_markdown_shows_reasoning_blocks(make_app, screen_text, spelling):
    text = REASONING_SPELLINGS[spelling]
    n = list(REASONING_SPELLINGS).index(spelling)
    app = make_app(dataset=_answered(text))
    async with app.run_test(size=SIZE) as pilot:
        lines = await _markdown_lines(pilot, screen_text)
        at = [i for i, line in enumerate(lines) if f"first plan {n}" in line]
        assert at, "the reasoning is hidden:\n" + "\n".join(lines)
        plan = at[0]
        assert "reasoning" in lines[plan - 1]  # a labelled block
        assert any(f"the answer {n}" in line for line in lines[plan + 1:])  # then the answer, rendered


@pytest.mark.parametrize("spelling", REASONING_SPELLINGS)
async def test_markdown_shows_an_unclosed_leading_block_as_reasoning_to_the_end(make_app, screen_text, spelling):
    """An answer cut off while it reasoned (its block opened, never closed): in markdown mode the
    rest of the text is the reasoning panel, not markdown with the tag dropped as HTML."""
    n = list(REASONING_SPELLINGS).index(spelling)
    text = REASONING_SPELLINGS[spelling].split("\n")[0] + f"\nfirst plan {n}\n\nthen **more** {n}"
    app = make_app(dataset=_answered(text))
    async with app.run_test(size=SIZE) as pilot:
        lines = await _markdown_lines(pilot, screen_text)
        plan = next((i for i, line in enumerate(lines) if f"first plan {n}" in line), None)
        assert plan is not None, "the reasoning is hidden:\n" + "\n".join(lines)
        assert "reasoning" in lines[plan - 1]  # a labelled block
        assert any(f"then **more** {n}" in line for line in lines[plan + 1:])  # inside it, as text
        await pilot.press("m")  # as it is: the tag and the text
        await pilot.pause()
        assert any(REASONING_SPELLINGS[spelling].split("\n")[0] in line for line in screen_text(app).splitlines())


async def test_whitespace_in_a_preference_pair_wraps_its_sides(make_app, screen_text):
    """`w` on a pair shown side by side: each side's long lines fold onto the next line, every
    character and ↵ shown, none cut with an ellipsis (a curator could not read the answers)."""
    long = "word " * 30 + "\nlast line here"
    ds = Dataset.from_records([make_record(
        id="p1", kind="preference", messages=[{"role": "user", "content": "which is better"}],
        chosen=[{"role": "assistant", "content": "good " + long}],
        rejected=[{"role": "assistant", "content": "bad " + long}])], sources=["pairs.jsonl"])
    app = make_app(dataset=ds)
    async with app.run_test(size=(80, 40)) as pilot:
        await ready(pilot)
        await pilot.press("2", "w")
        await pilot.pause()
        text = screen_text(app)
        assert "…" not in text  # folded, not cut
        assert text.count("last·line·here") == 2 and text.count("↵") >= 2
