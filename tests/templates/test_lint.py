"""Lint finds the rows a template rejects or mangles, and writes signals to a real workspace."""

from __future__ import annotations

from pathlib import Path

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
    assert gemma["not_alternating"] == {"rejected", "turn_order"}
    assert gemma["preference"] == {"rejected"}  # its system prompt, on both sides
    assert "single" not in gemma
    phi = lint_dataset(ds, "phi-3")
    found = codes(phi)
    assert found["tool_use"] == {"dropped_content", "dropped_tool_call"}  # Phi-3's template skips tool turns and calls
    assert found["empty"] == {"empty_assistant"}
    assert found["ends_with_user"] == {"nothing_trained", "turn_order"}
    assert found["not_alternating"] == {"turn_order"}  # Phi-3 renders it; LLaMA-Factory would skip it
    assert phi.rows == 7 and phi.rows_with_issues == 4
    assert phi.counts == {"dropped_content": 1, "dropped_tool_call": 1, "empty_assistant": 1, "nothing_trained": 1,
                          "turn_order": 2}
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


CASES = Path(__file__).parent / "cases"


def test_turn_orders_a_trainer_treats_specially_are_flagged():
    def lint(*roles):
        turns = [{"role": r, "content": f"{r} {i}"} for i, r in enumerate(roles)]
        for i, t in enumerate(turns):
            if t["role"] == "assistant" and i + 1 < len(turns) and turns[i + 1]["role"] == "tool":
                t["tool_calls"] = [{"name": "f", "arguments": "{}"}]
        return [i.message for i in lint_dataset(Dataset.from_records([make_record(id="r", messages=turns)]),
                                                "chatml").issues if i.code == "turn_order"]

    for fine in (("user", "assistant"), ("system", "user", "assistant", "user", "assistant"),
                 ("user", "assistant", "tool", "tool", "assistant")):
        assert lint(*fine) == [], fine
    for odd, said in ((("assistant", "user", "assistant"), "starts with assistant"),
                      (("user", "assistant", "assistant"), "two assistant turns in a row at position 2"),
                      (("user", "user", "assistant"), "two user turns in a row"),
                      (("user", "tool", "assistant"), "tool turn at position 1 does not follow an assistant"),
                      (("user", "assistant", "system", "user", "assistant"), "system turn at position 2")):
        (msg,) = lint(*odd)
        assert msg.startswith(said) and "LLaMA-Factory skips" in msg, (odd, msg)
    # the shared cases: an answer first (row 1), two answers in a row
    first = lint_dataset(Dataset.open([str(CASES / "assistant_first_sharegpt.json")]), "qwen2.5")
    assert [(i.row, i.code) for i in first.issues] == [(1, "turn_order")]
    owls = lint_dataset(Dataset.open([str(CASES / "consecutive_assistant.jsonl")]), "chatml")
    assert owls.counts == {"turn_order": 1}
