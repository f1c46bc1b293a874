"""The shapes of the trainers' current data docs: LLaMA-Factory's v1 rows (content parts
spelled {"type", "value"}, tool_call parts holding JSON text, chosen_messages /
rejected_messages), TRL's prompt-only and stepwise rows, axolotl's template-free segments and
instruction styles. Each reads into the canonical record the trainer means, and an edited
record is written back in the source's own spelling (not through the kept raw row)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.data.formats import decode, detect, encode
from workbench.data.formats.base import same
from workbench.data.readers import iter_records

SHAPES = Path(__file__).parent / "public_shapes"


def _recs(name):
    return list(iter_records(str(SHAPES / name)))


def _edited(rec, **changes):
    """The record as an operation would leave it: changed, so the raw source row is not used."""
    return {**rec, **changes}


def test_llama_factory_v1_dpo_shares_the_prompt_and_keeps_weights():
    a, b = _recs("llama_factory_v1_dpo.jsonl")
    assert a["kind"] == "preference" and a["system"] == "Be brief."
    assert a["messages"] == [{"role": "user", "content": "Capital of Peru?", "train": 0.0}]
    assert a["chosen"] == [{"role": "assistant", "content": "Lima.", "train": 1.0}]
    assert a["rejected"][0]["content"] == "Cusco, I think."
    # a multi-turn pair: the shared history is the prompt, reasoning parts stay apart
    assert [t["content"] for t in b["messages"]] == ["2+2?", "4", "times 3?"]
    assert b["chosen"] == [{"role": "assistant", "content": "12", "reasoning": "4*3"}]
    assert b["meta"] == {"extra_info": "{\"src\": \"hand\"}"}
    row, lost = encode(_edited(a, chosen=[{"role": "assistant", "content": "Lima, Peru.", "train": 1.0}]), "openai")
    assert lost == [] and list(row) == ["chosen_messages", "rejected_messages"]
    assert row["chosen_messages"][0] == {"role": "system", "content": [{"type": "text", "value": "Be brief."}],
                                         "loss_weight": 0.0}
    assert row["chosen_messages"][2] == {"role": "assistant", "content": [{"type": "text", "value": "Lima, Peru."}],
                                         "loss_weight": 1.0}
    assert row["rejected_messages"][1] == row["chosen_messages"][1]


def test_llama_factory_tool_call_parts_are_tool_calls():
    recs = _recs("llama_factory_v1_tool_use.jsonl")
    turn = recs[0]["messages"][1]
    assert turn["reasoning"] == "Two cities, two calls." and turn["content"] == ""
    assert [(c["name"], json.loads(c["arguments"])) for c in turn["tool_calls"]] == [
        ("weather", {"city": "Oslo"}), ("weather", {"city": "Bergen"})]
    text_and_call = recs[1]["messages"][1]
    assert text_and_call["content"] == "Jag kollar." and text_and_call["tool_calls"][0]["name"] == "weather"
    # edited rows are written with the parts, the non-ASCII spelling of each row kept
    for rec in recs:
        msgs = [dict(t) for t in rec["messages"]]
        msgs[-1]["content"] += " (checked)"
        row, lost = encode(_edited(rec, messages=msgs), "openai")
        assert lost == []
        src = json.loads((SHAPES / "llama_factory_v1_tool_use.jsonl").read_text().splitlines()[rec["row"]])
        calls = [p for m in row["messages"] for p in m["content"] if p["type"] == "tool_call"]
        assert calls == [p for m in src["messages"] for p in m["content"] if p["type"] == "tool_call"]
    assert "Malmö" in calls_of(recs[1]) and "Z\\u00fcrich" in calls_of(recs[2])


def calls_of(rec):
    msgs = [dict(t) for t in rec["messages"]]
    msgs[0]["content"] += "!"
    row, _ = encode(_edited(rec, messages=msgs), "openai")
    return "".join(p["value"] for m in row["messages"] for p in m["content"] if p["type"] == "tool_call")


@pytest.mark.parametrize("bad, says", [
    ({"type": "tool_call", "value": "{not json"}, "tool_call part's value is not JSON"),
    ({"type": "tool_call", "value": "{\"arguments\": {}}"}, "tool call has no 'name'"),
])
def test_broken_tool_call_parts_are_row_errors(bad, says):
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": [bad]}]}
    with pytest.raises(Exception, match=says):
        decode("openai", row)


def test_trl_prompt_only_rows_are_prompts_without_answers():
    a, b, c = _recs("trl_prompt_only.jsonl")
    assert a["messages"] == [{"role": "user", "content": "Write a haiku about rain."}] and a["kind"] == "sft"
    assert b["system"] == "Answer in French." and b["meta"] == {"solution": "rouge"}
    assert c["meta"] == {"answer": "42"}
    row, _ = encode(_edited(a, messages=[{"role": "user", "content": "Write a haiku about snow."}]), "trl")
    assert row == {"prompt": "Write a haiku about snow."}
    # a prompt-only row answered later (by generate) gains a completion
    answered, _ = encode(_edited(a, messages=a["messages"] + [{"role": "assistant", "content": "Drops..."}]), "trl")
    assert answered == {"prompt": "Write a haiku about rain.", "completion": "Drops..."}


def test_trl_stepwise_rows_join_steps_as_the_prm_trainer_does():
    a, b = _recs("trl_stepwise.jsonl")
    assert a["messages"][-1] == {"role": "assistant", "content": "Compare the tenths: 8 > 1.\nSo 9.8 is larger."}
    assert a["meta"] == {"labels": [True, True]}
    assert b["messages"][-1]["content"] == "91 = 7 * 13.\nSo it is prime.\n"  # an empty last step stays
    row, _ = encode(b, "trl")
    assert row["completions"] == ["91 = 7 * 13.", "So it is prime.", ""]
    msgs = [*b["messages"][:-1], {"role": "assistant", "content": "91 = 7 * 13.\nSo it is not prime.\n"}]
    row, _ = encode(_edited(b, messages=msgs), "trl")
    assert row["completions"] == ["91 = 7 * 13.", "So it is not prime.", ""] and row["labels"] == [True, False, False]


def test_axolotl_template_free_segments_keep_their_labels():
    a, b = _recs("axolotl_template_free.jsonl")
    assert a["kind"] == "text" and a["text"] == "<s>Hello\nhi there!. goodbye farewell</s>"
    row, lost = encode(a, "text")
    assert [s["label"] for s in row["segments"]] == [False, True, False, True] and lost == []
    assert list(encode(b, "text")[0]["segments"][0]) == ["text", "label"]  # key order as written
    row, lost = encode(_edited(a, text="rewritten"), "text")
    assert row == {"segments": [{"label": True, "text": "rewritten"}]} and lost
    with pytest.raises(Exception, match="segment 1"):
        decode("text", {"segments": [{"label": "yes", "text": "x"}]})


@pytest.mark.parametrize("row, user, answer", [
    ({"INSTRUCTION": "q", "RESPONSE": "a"}, "q", "a"),
    ({"message_1": "q", "message_2": "a"}, "q", "a"),
    ({"prompt": "q", "generation": "a"}, "q", "a"),
    ({"article": "long text", "summary": "short"}, "long text", "short"),
    ({"system_prompt": "s", "question": "q", "response": "a"}, "q", "a"),
])
def test_axolotl_instruction_styles_are_alpaca_rows(row, user, answer):
    fmt, _ = detect([row])
    rec = decode(fmt, row)
    assert fmt == "alpaca" and [t["content"] for t in rec["messages"]] == [user, answer]
    back, lost = encode(_edited(rec, meta=dict(rec["meta"])), "alpaca")
    assert same(back, row) and lost == []


@pytest.mark.parametrize("name", ["axolotl_dpo_alpaca_style.jsonl", "axolotl_dpo_chat_style.jsonl"])
def test_axolotl_dpo_styles_are_one_system_prompt_and_answer_pairs(name):
    for rec in _recs(name):
        assert rec["kind"] == "preference" and rec["system"] == "Be kind." and rec["meta"] == {}
        assert [t["content"] for t in rec["messages"]] == ["Name a fruit."]
        assert len(rec["chosen"]) == len(rec["rejected"]) == 1 and rec["chosen"][0]["role"] == "assistant"
        fmt = rec["origin"]["format"]
        edited = _edited(rec, chosen=[{"role": "assistant", "content": "Mango."}])
        row, lost = encode(edited, fmt)
        assert lost == [] and "Mango." in json.dumps(row) and list(row)[:1] == rec["origin"]["keys"][:1]
