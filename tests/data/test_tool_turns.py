"""An assistant turn that says something (or reasons) and calls tools is one turn in every
format: into ShareGPT it is one function_call turn whose value LLaMA-Factory (0.9.4+) reads
as text, reasoning and calls, so the row keeps the role order LLaMA-Factory accepts; and it
comes back as one turn. Family: assistant turns with text and/or reasoning next to one or
more calls, from OpenAI tool_calls, LLaMA-Factory v1 tool_call parts or Glaive chats; and
ShareGPT rows that older writers split into gpt + function_call."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workbench.data.formats import decode, encode
from workbench.data.formats.base import same
from workbench.data.readers import iter_records
from workbench.ops.filters import alternation_problem
from test_formats import _inline_reasoning

CASES = Path(__file__).parent / "cases"  # copies of ../shared/cases inputs
HERE = Path(__file__).parent
SHAPES = HERE / "public_shapes"


def _lf_accepts(row: dict) -> bool:
    """LLaMA-Factory's documented ShareGPT rule (data/README.md): after an optional system
    turn, human/observation at odd positions, gpt/function_call at even ones."""
    conv = row["conversations"]
    if conv and conv[0]["from"] == "system":
        conv = conv[1:]
    want = (("human", "observation"), ("gpt", "function_call"))
    return bool(conv) and all(t["from"] in want[i % 2] for i, t in enumerate(conv)) and len(conv) % 2 == 0


def _lf_function_value(value: str) -> tuple[str, list[str]]:
    """What LLaMA-Factory's function formatter takes from a function_call value (its rule:
    the JSON inside <tool_call>...</tool_call> are the calls, the rest is said before them;
    without the tags, a <think> block may precede bare JSON)."""
    m = re.search(r"<tool_call>(.*?)</tool_call>", value, re.S)
    if m:
        said, body = value.replace(m.group(0), ""), m.group(1)
    else:
        t = re.search(r"<think>(.*?)</think>", value, re.S)
        said = t.group(0) if t else ""
        body = value.replace(said, "")
    calls = json.loads(body)
    calls = calls if isinstance(calls, list) else [calls]
    return said, [c["name"] for c in calls]


def _case_rows():
    rows = [json.loads(line) for line in (CASES / "toolcall_with_text.jsonl").read_text().splitlines()]
    call = lambda n, city: {"type": "function", "function": {"name": n, "arguments": json.dumps({"city": city})}}
    rows += [  # beyond the example: reasoning, reasoning + text, two calls with text, text after a result
        {"messages": [{"role": "user", "content": "Oslo?"},
                      {"role": "assistant", "content": "", "reasoning_content": "Need the tool.",
                       "tool_calls": [call("weather", "Oslo")]},
                      {"role": "tool", "content": "4"}, {"role": "assistant", "content": "4 degrees."}]},
        {"messages": [{"role": "user", "content": "Oslo?"},
                      {"role": "assistant", "content": "Checking.", "reasoning_content": "Need the tool.",
                       "tool_calls": [call("weather", "Oslo")]},
                      {"role": "tool", "content": "4"}, {"role": "assistant", "content": "4 degrees."}]},
        {"messages": [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Oslo and Rome?"},
                      {"role": "assistant", "content": "Two lookups:\n", "tool_calls": [call("weather", "Oslo"),
                                                                                       call("weather", "Rome")]},
                      {"role": "tool", "content": "[4, 18]"}, {"role": "assistant", "content": "4 and 18."},
                      {"role": "user", "content": "And Bergen?"},
                      {"role": "assistant", "content": "One more.", "tool_calls": [call("weather", "Bergen")]},
                      {"role": "tool", "content": "7"}, {"role": "assistant", "content": "7."}]},
    ]
    return rows


@pytest.mark.parametrize("i", range(4))
def test_text_and_reasoning_next_to_calls_fold_into_one_function_call(i):
    src = _case_rows()[i]
    rec = decode("openai", src)
    row, lost = encode(rec, "sharegpt")
    assert _lf_accepts(row), row
    assert alternation_problem(decode("sharegpt", row)) is None
    n_calls = sum(1 for t in rec["messages"] if t.get("tool_calls"))
    fc = [t["value"] for t in row["conversations"] if t["from"] == "function_call"]
    assert len(fc) == n_calls  # one function_call per calling turn: nothing split off
    for value, turn in zip(fc, [t for t in rec["messages"] if t.get("tool_calls")]):
        said, names = _lf_function_value(value)
        assert names == [c["name"] for c in turn["tool_calls"]]
        assert turn["content"] in said and (turn.get("reasoning") or "") in said
    assert isinstance(row.get("tools", ""), str)  # LLaMA-Factory json.loads its tools column
    # and back: the same turns (ids are what ShareGPT cannot hold, and it says so)
    back = decode("sharegpt", json.loads(json.dumps(row)))
    strip = lambda turns: [{k: v for k, v in t.items() if k != "tool_call_id"} |
                           ({"tool_calls": [{k: v for k, v in c.items() if k != "id"} for c in t["tool_calls"]]}
                            if t.get("tool_calls") else {}) for t in turns]
    assert back["messages"] == strip(rec["messages"]) and back["system"] == rec["system"]
    assert set(lost) <= {"tool call ids"}


def test_llama_factory_tool_use_rows_convert_to_sharegpt_it_accepts():
    for rec in iter_records(str(SHAPES / "llama_factory_v1_tool_use.jsonl")):
        row, lost = encode(rec, "sharegpt")
        roles = [t["role"] for t in rec["messages"]]
        parallel = any(a == b == "tool" for a, b in zip(roles, roles[1:]))  # row 0: two results in a row
        assert _lf_accepts(row) != parallel and any("two observations" in w for w in lost) == parallel
        back = decode("sharegpt", json.loads(json.dumps(row)))
        # reasoning held apart in a plain answer travels inside its gpt value, as a <think> block
        assert back["messages"] == _inline_reasoning(rec["messages"]) and back["tools"] == rec["tools"]


def test_a_split_gpt_and_function_call_reads_as_one_turn_and_writes_back_as_it_was():
    row = {"conversations": [
        {"from": "human", "value": "Oslo?"}, {"from": "gpt", "value": "Let me check."},
        {"from": "function_call", "value": "{\"name\": \"weather\", \"arguments\": {\"city\": \"Oslo\"}}"},
        {"from": "observation", "value": "4"}, {"from": "gpt", "value": "4 degrees."}], "tools": "[]"}
    rec = decode("sharegpt", row)
    assert [t["role"] for t in rec["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert rec["messages"][1]["content"] == "Let me check." and rec["messages"][1]["tool_calls"][0]["name"] == "weather"
    assert "raw" not in rec["origin"] and same(encode(rec, "sharegpt")[0], row)
    out, _ = encode(rec, "openai")
    assert [m["role"] for m in out["messages"]] == ["user", "assistant", "tool", "assistant"]
    # a function_call with its own text or weight is a turn of its own: not joined
    row["conversations"][2]["weight"] = 0
    assert len(decode("sharegpt", row)["messages"]) == 5


@pytest.mark.parametrize("value, text, reasoning", [
    ("Checking.<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>", "Checking.", None),
    ("<think>\nhm\n</think>\n\n{\"name\": \"f\", \"arguments\": {}}", "", "hm"),
    ("<think>hm</think>Checking.<tool_call>[{\"name\": \"f\", \"arguments\": {}}]</tool_call> done", "Checking. done", "hm"),
    ("<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>", "", None),
])
def test_function_call_values_in_llama_factory_spellings_round_trip(value, text, reasoning):
    row = {"conversations": [{"from": "human", "value": "q"}, {"from": "function_call", "value": value},
                             {"from": "observation", "value": "1"}, {"from": "gpt", "value": "a"}]}
    rec = decode("sharegpt", row)
    turn = rec["messages"][1]
    assert (turn["content"], turn.get("reasoning"), turn["tool_calls"][0]["name"]) == (text, reasoning, "f")
    assert "raw" not in rec["origin"] and same(encode(rec, "sharegpt")[0], row)


def test_parallel_tool_results_in_a_row_are_reported():
    rec = decode("openai", {"messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}},
                                                             {"function": {"name": "g", "arguments": "{}"}}]},
        {"role": "tool", "content": "1"}, {"role": "tool", "content": "2"}, {"role": "assistant", "content": "a"}]})
    _, lost = encode(rec, "sharegpt")
    assert any("two observations in a row" in w for w in lost)
