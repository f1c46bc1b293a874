"""Lint finds the rows a template rejects or mangles, and writes signals to a real workspace."""

from __future__ import annotations

import pytest

from template_cases import cases
from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.store.workspace import Workspace
from workbench.templates.lint import format_report, lint_dataset


def rows() -> list[dict]:
    c = cases()
    return [c["single"], c["system_multi"], c["tool_use"], c["not_alternating"], c["preference"],
            make_record(id="empty", messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": " "}]),
            c["ends_with_user"]]


def codes(report) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for i in report.issues:
        out.setdefault(i.id, set()).add(i.code)
    return out


def test_lint_finds_rejections_drops_and_empty_turns():
    ds = Dataset.from_records(rows())
    gemma = codes(lint_dataset(ds, "gemma"))
    assert gemma["system_multi"] == {"rejected"}  # no system role
    assert gemma["not_alternating"] == {"rejected"}
    assert gemma["preference"] == {"rejected"}  # its system prompt, on both sides
    assert "single" not in gemma
    phi = lint_dataset(ds, "phi-3")
    found = codes(phi)
    assert found["tool_use"] == {"dropped_content", "dropped_tool_call"}  # Phi-3's template skips tool turns and calls
    assert found["empty"] == {"empty_assistant"}
    assert found["ends_with_user"] == {"nothing_trained"}
    assert "not_alternating" not in found  # Phi-3 does not check alternation
    assert phi.rows == 7 and phi.rows_with_issues == 3
    assert phi.counts == {"dropped_content": 1, "dropped_tool_call": 1, "empty_assistant": 1, "nothing_trained": 1}
    text = format_report(phi)
    assert "row 2 (tool_use): dropped_content: turn 3 (tool): its text is not in the rendering" in text


def test_a_dropped_system_prompt_is_named(tmp_path):
    path = tmp_path / "no_system.jinja"
    path.write_text("{% for m in messages if m.role != 'system' %}{{ m.role }}: {{ m.content }}\n{% endfor %}")
    report = lint_dataset(Dataset.from_records([cases()["system_multi"]]), f"jinja:{path}")
    assert codes(report)["system_multi"] == {"dropped_system"}


@pytest.mark.slow
def test_max_len_and_workspace_signals(tmp_path, smol):
    ds = Dataset.from_records(rows())
    ws = Workspace.open(tmp_path / "ws.sqlite")
    report = lint_dataset(ds, "chatml", max_len=40, tokenizer=smol, ws=ws)
    over = {i.id for i in report.issues if i.code == "over_max_len"}
    assert over == {"tool_use", "system_multi", "preference"}
    assert report.tokens_max > 40 and report.run_id is not None
    issues = ws.signal_values("template_issues", op="template_lint")
    tokens = ws.signal_values("template_tokens", op="template_lint")
    assert set(issues) == {r["id"] for r in rows()}  # every row, clean ones with []
    assert issues["single"] == [] and issues["tool_use"] == ["dropped_tool_call", "over_max_len"]  # chatml writes no tool calls
    assert tokens["single"] < 40 < tokens["tool_use"]
    run = ws.runs(limit=1)[0]
    assert run["op"] == "template_lint" and run["status"] == "done"
    ws.close()
