"""Pilot tests of the template workshop pane (issue 15 item 17): edit, see the row, its trained
spans, token counts and lint update; an error at its line; save as a file and into a tokenizer folder."""

from __future__ import annotations

import json

import pytest

from tests.tui.conftest import ready

from workbench.templates import get_template
from workbench.templates.registry import _load
from workbench.tui.widgets.workshop import jinja_highlights

SIZE = (160, 50)

MINE = ("{% for m in messages %}<<{{ m.role }}>>\n{{ m.content }}<<end>>\n{% endfor %}"
        "{% if add_generation_prompt %}<<assistant>>\n{% endif %}")


def _out(app) -> str:
    """The screen's text (the pane's right side holds the lint counts, then the rendering)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def _tried(pilot, wait_until, what: str, text: str) -> None:
    await wait_until(pilot, lambda: text in _out(pilot.app), what)


def test_jinja_highlights_in_byte_columns():
    marks = jinja_highlights("é {{ 'x' }}\n{% if a %}{# c #}", error_line=2)
    assert (3, 12, "punctuation.special") in marks[0]  # é is two bytes
    assert (6, 9, "string") in marks[0]
    assert (3, 5, "keyword") in marks[1] and (10, 17, "comment") in marks[1]
    assert (0, None, "html.end_tag_error") in marks[1]


@pytest.mark.asyncio
async def test_workshop_edits_and_tries_the_template(make_app, wait_until, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("9")
        await ready(pilot)
        area = app.query_one("JinjaArea")
        assert area.text == get_template("chatml").source  # starts from a built-in
        await _tried(pilot, wait_until, "the first rendering", "<|im_start|>user")
        # lint runs after the rendering (its own worker): wait for it, a loaded machine is slow
        await wait_until(pilot, lambda: "lint over all 32 rows" in _out(app) and "dropped_tool_call" in _out(app),
                         "the first lint counts")
        # the few lines of counts come first, then the rendering, which can be long
        assert _out(app).index("lint over all 32 rows") < _out(app).index("<|im_start|>user")
        # Typing a mistake: the error and its line; the line is marked in the editor; lint counts it.
        area.load_text(MINE.replace("{{ m.content }}", "{{ m.content }\n"))
        await _tried(pilot, wait_until, "the syntax error", "line 2")
        assert "syntax error" in _out(app) and area.error_line == 2
        await wait_until(pilot, lambda: "lint over all 32 rows: 32 with issues" in _out(app), "the lint counts")
        # Fixed: the row renders through the edited text, trained span and counts included.
        area.load_text(MINE)
        await _tried(pilot, wait_until, "the edited rendering", "<<user>>")
        assert area.error_line is None
        await wait_until(pilot, lambda: "tokens ·" in _out(app), "the token counts")
        assert "<<assistant>>" in _out(app) and " trained (SmolLM2-135M (bundled))" in _out(app)
        # Typing goes to the editor, and a keystroke is tried again after the pause.
        area.move_cursor((0, 0))
        await pilot.press(*"{# hello #}")
        await wait_until(pilot, lambda: area.text.startswith("{# hello #}{% for"), "the typed text")
        # ctrl+s saves as a .jinja file; tokenizer:DIR saves into a tokenizer folder.
        await pilot.press("ctrl+s")
        await pilot.pause()
        field = app.screen.query_one("Input")
        assert field.value == "chatml.jinja"
        field.value = str(tmp_path / "mine.jinja")
        await pilot.press("enter")
        await pilot.pause()
        assert (tmp_path / "mine.jinja").read_text() == area.text
        folder = tmp_path / "tok"
        folder.mkdir()
        (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": "old", "eos_token": "<<end>>"}))
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("Input").value = f"tokenizer:{tmp_path}"  # not a tokenizer folder: said, prompt stays
        await pilot.press("enter")
        await pilot.pause()
        assert "not a tokenizer folder" in str(app.screen.query_one("#prompt-problem").render())
        app.screen.query_one("Input").value = f"tokenizer:{folder}"
        await pilot.press("enter")
        await pilot.pause()
        assert (folder / "chat_template.jinja").read_text() == area.text
        assert json.loads((folder / "tokenizer_config.json").read_text())["chat_template"] == area.text
        # ctrl+o starts again from another template: the folder just written.
        _load.cache_clear()
        await pilot.press("ctrl+o")
        await pilot.pause()
        picker = app.screen
        for _ in range(picker.names.index("tokenizer:DIR …") - (picker.query_one("OptionList").highlighted or 0)):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one("Input").value = str(folder)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one("WorkshopPane").base == f"tokenizer:{folder}"
        assert area.text.startswith("{# hello #}")
        await pilot.press("escape")  # leaves the editor (tab indents in it)
        await pilot.pause()
        assert not area.has_focus
        await pilot.press("escape")  # then, as everywhere, back to Browse
        await wait_until(pilot, lambda: app.current_pane == "browse", "Browse")


@pytest.mark.asyncio
async def test_workshop_editor_follows_the_app_theme(make_app):
    """The editor is light under --theme light, dark under a dark theme, switching live; a
    template error's line is marked in both."""
    app = make_app(theme="light")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("9")
        await ready(pilot)
        area = app.query_one("JinjaArea")

        def editor_background():
            return area.styles.background

        assert editor_background().brightness > 0.8
        assert area._theme.syntax_styles.get("html.end_tag_error")  # the error line's style
        app.theme = "dark"
        await pilot.pause()
        assert editor_background().brightness < 0.3
        assert area._theme.syntax_styles.get("html.end_tag_error")
        app.theme = "light"
        await pilot.pause()
        assert editor_background().brightness > 0.8
