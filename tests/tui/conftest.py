"""Fixtures for the TUI tests: a small real dataset (Arrow) and a real SQLite workspace."""

from __future__ import annotations

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record


def sample_records(n: int = 30) -> list[dict]:
    recs = [
        make_record(
            id=f"r{i}",
            system="You are terse." if i % 5 == 0 else None,
            messages=[
                {"role": "user", "content": f"question {i}: how do {'cats' if i % 2 else 'dogs'} sleep?"},
                {"role": "assistant", "content": f"answer {i} with **bold** text", "reasoning": "think" if i == 1 else None},
            ],
        )
        for i in range(n)
    ]
    recs.append(make_record(
        id="pref1", kind="preference", messages=[{"role": "user", "content": "which zebra answer is better"}],
        chosen=[{"role": "assistant", "content": "the striped one"}],
        rejected=[{"role": "assistant", "content": "the spotted one"}],
    ))
    recs.append(make_record(
        id="tool1",
        messages=[
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}]},
            {"role": "tool", "content": "sunny", "tool_call_id": "c1"},
        ],
    ))
    return recs


@pytest.fixture
def ds():
    return Dataset.from_records(sample_records(), sources=["demo.jsonl"])


@pytest.fixture
def make_app(ds, ws):
    from workbench.tui.app import WorkbenchApp

    def make(**kw):
        return WorkbenchApp(dataset=kw.pop("dataset", ds), workspace=kw.pop("workspace", ws), **kw)

    return make


@pytest.fixture
def screen_text():
    """The text on the terminal as the user sees it (Textual is pinned, so this private hook is stable)."""

    def text(app) -> str:
        return "\n".join(strip.text for strip in app.screen._compositor.render_strips())

    return text
