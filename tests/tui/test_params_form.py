"""The palette's operation forms (configure-NAME) as a curator typed into them: empty fields
for none / no items, list items as the CLI takes them, the TUI's chosen template prefilled."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Input

pytestmark = pytest.mark.asyncio


async def _ready(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _field(app, name: str) -> Input:
    return app.screen.query_one(f"#param-{name}", Input)


async def test_none_and_empty_list_fields_start_empty_and_typing_makes_the_value(make_app, ws, tmp_path,
                                                                                run_from_palette, wait_for_operation):
    """Curator's session: max_len showed `null`, so typing 1024 made "null1024"; decontam's
    `against` showed `[]`, and `bench.jsonl:question,answer` (the README's syntax) was split at
    its comma into a file "answer"."""
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"question": "question 3: how do cats sleep?", "answer": "on sofas"}) + "\n")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await run_from_palette(pilot, "configure-template-lint")
        assert type(app.screen).__name__ == "ParamsScreen"
        for name in ("template", "max_len", "tokenizer"):
            assert _field(app, name).value == ""
        assert _field(app, "max_len").placeholder.startswith("none")
        _field(app, "template").focus()
        await pilot.press(*"chatml", "tab", *"1024")  # typed, as a person does
        assert _field(app, "max_len").value == "1024"
        await pilot.press("ctrl+r")
        await _ready(pilot)
        await wait_for_operation(pilot, "template-lint")
        run = next(r for r in ws.runs() if r["op"] == "template-lint")
        assert run["status"] == "done"
        assert run["params"] == {"template": "chatml", "max_len": 1024, "tokenizer": None}  # empty: the default

        await run_from_palette(pilot, "configure-decontam")
        assert _field(app, "against").value == "" and "items separated by ;" in _field(app, "against").placeholder
        _field(app, "against").value = f"{bench}:question,answer"
        _field(app, "ngram").value = "5"
        await pilot.press("ctrl+r")
        await _ready(pilot)
        assert type(app.screen).__name__ != "ParamsScreen"  # no "benchmark file not found: answer"
        await wait_for_operation(pilot, "decontam")
        run = next(r for r in ws.runs() if r["op"] == "decontam")
        assert run["status"] == "done" and run["params"]["against"] == [f"{bench}:question,answer"]
        assert ws.decision("r3")["status"] == "reject"  # the benchmark's question found

        # The form shows the run's list as typed; two benchmark files are separated by ;.
        await run_from_palette(pilot, "configure-decontam")
        assert _field(app, "against").value == f"{bench}:question,answer"
        _field(app, "against").value = f"{bench}:question,answer; {bench}"
        assert app.screen._edited()["against"] == [f"{bench}:question,answer", str(bench)]
        await pilot.press("escape")


async def test_template_lint_form_starts_from_the_template_picked_with_t(make_app, run_from_palette):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await pilot.press("t")
        await pilot.pause()
        names = app.screen.names
        for _ in range(names.index("llama-3")):
            await pilot.press("down")
        await pilot.press("enter")
        await _ready(pilot)
        assert app.template_name == "llama-3"
        await run_from_palette(pilot, "configure-template-lint")
        assert _field(app, "template").value == "llama-3"
