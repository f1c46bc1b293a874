"""Pilot tests: the template picker's tokenizer:DIR / jinja:FILE / gguf:FILE entries (a path
prompt with completion) and the Template pane naming the tokenizer that counts (issue 15 item 5)."""

from __future__ import annotations

import json

import pytest

from tests.tui.conftest import ready

from workbench.templates.registry import get_template
from workbench.tui.screens.prompt import complete_path

SIZE = (100, 30)


def word_tokenizer_dir(path):
    """A real tokenizer folder: a word-level tokenizer.json (every word one token) and a config
    holding the ChatML template."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    path.mkdir()
    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "<|im_start|>": 1, "<|im_end|>": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.save(str(path / "tokenizer.json"))
    (path / "tokenizer_config.json").write_text(json.dumps({"chat_template": get_template("chatml").source,
                                                            "eos_token": "<|im_end|>"}))
    return tok


async def _pick(pilot, entry: str) -> None:
    app = pilot.app
    await pilot.press("t")
    await pilot.pause()
    picker = app.screen
    for _ in range(picker.names.index(entry) - (picker.query_one("OptionList").highlighted or 0)):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


def test_complete_path(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "qwen-tok").mkdir()
    (tmp_path / "models" / "qwen-7b.gguf").write_text("")
    (tmp_path / "models" / "notes.txt").write_text("")
    base = str(tmp_path)
    assert complete_path(base + "/mo") == base + "/models/"
    assert complete_path(base + "/models/q") == base + "/models/qwen-"  # the part they share
    assert complete_path(base + "/models/qwen-", dirs_only=True) == base + "/models/qwen-tok/"
    assert complete_path(base + "/models/n", suffixes=(".gguf",)) is None
    assert complete_path(base + "/models/qwen-7", suffixes=(".gguf",)) == base + "/models/qwen-7b.gguf"
    assert complete_path(base + "/nothing/x") is None


@pytest.mark.asyncio
async def test_tokenizer_dir_template_counts_with_its_own_tokenizer(make_app, screen_text, tmp_path, wait_until):
    d = tmp_path / "wordtok"
    tok = word_tokenizer_dir(d)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _pick(pilot, "tokenizer:DIR …")
        assert "tokenizer" in str(app.screen.query_one("Static").render())
        # A typed prefix completes with tab; a folder without a template is refused in place.
        await pilot.press(*str(tmp_path / "wor"), "tab")
        assert app.screen.query_one("Input").value == str(d) + "/"
        await pilot.press("backspace", *"x", "enter")
        await pilot.pause()
        assert "does not exist" in str(app.screen.query_one("#prompt-problem").render())
        await pilot.press("backspace", "enter")
        await wait_until(pilot, lambda: app.current_pane == "template", "the Template pane")
        assert app.template_name == f"tokenizer:{d}"
        expected = len(tok.encode(app.query_one("TemplatePane")._renderings[0].text, add_special_tokens=False).ids)
        await wait_until(pilot, lambda: "tokens ·" in screen_text(app), "the token counts")
        text = screen_text(app)
        assert f"tokens counted by tokenizer {d}" in text
        assert f"{expected:,} tokens ·" in text
        await pilot.press("t")  # the folder chosen is offered again in the picker
        await pilot.pause()
        assert f"tokenizer:{d}" in app.screen.names


@pytest.mark.asyncio
async def test_jinja_and_gguf_templates_name_their_tokenizer(make_app, screen_text, tmp_path, wait_until):
    from workbench.templates.tokens import smollm2_gguf

    f = tmp_path / "mine.jinja"
    f.write_text("{% for m in messages %}<<{{ m.role }}>> {{ m.content }}\n{% endfor %}")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _pick(pilot, "jinja:FILE …")
        await pilot.press(*str(f), "enter")
        await wait_until(pilot, lambda: app.current_pane == "template", "the Template pane")
        await wait_until(pilot, lambda: "tokens ·" in screen_text(app), "the token counts")
        text = screen_text(app)
        assert "<<user>> question 0" in text
        assert "tokens counted by SmolLM2-135M (bundled) — the template names no tokenizer" in text
        gguf = smollm2_gguf()
        await _pick(pilot, "gguf:FILE …")
        await pilot.press(*str(gguf), "enter")
        await wait_until(pilot, lambda: app.template_name == f"gguf:{gguf}", "the GGUF template")
        await wait_until(pilot, lambda: "tokens ·" in screen_text(app), "the token counts")
        assert f"tokens counted by GGUF {gguf.name}" in screen_text(app)


@pytest.mark.asyncio
async def test_the_picked_template_opens_again_next_session(make_app, ws, screen_text, wait_until):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _pick(pilot, "llama-3")
        await wait_until(pilot, lambda: app.current_pane == "template", "the Template pane")
        assert app.template_name == "llama-3"
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert again.template_name == "llama-3"
        await pilot.press("3")  # the Template pane renders with it
        await wait_until(pilot, lambda: "<|start_header_id|>" in screen_text(again), "the llama-3 rendering")
        await pilot.press("t")  # and the picker starts on it
        await pilot.pause()
        assert again.screen.names[again.screen.query_one("OptionList").highlighted] == "llama-3"
