"""Every format in both directions, detection, and round trips on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.data.formats import FORMATS, decode, detect, encode
from workbench.data.formats import alpaca, hh, messages, sharegpt, text, trl
from workbench.data.formats.base import join_think, same
from workbench.data.readers import expand_paths, iter_records, raw_rows

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"
SHAPES = Path(__file__).parent / "public_shapes"

SAMPLE_FORMATS = {
    "alpaca.jsonl": ("alpaca", {"sft"}),
    "alpaca_preference.json": ("alpaca", {"preference"}),
    "sharegpt.json": ("sharegpt", {"sft"}),
    "sharegpt_kto.jsonl": ("sharegpt", {"kto"}),
    "openai_messages.jsonl": ("openai", {"sft", "kto"}),
    "trl_preference.jsonl": ("trl", {"preference"}),
    "hh.jsonl": ("hh", {"preference"}),
    "text.jsonl": ("text", {"text"}),
    "ultrachat_style.parquet": ("openai", {"sft"}),
    "trivia_qa.csv": ("alpaca", {"sft"}),
}
EXAMPLES = ROOT / "examples"
EXAMPLE_FORMATS = {  # inputs for operations, kept apart so the demo does not open them as rows
    "seed_tasks.jsonl": ("alpaca", {"sft"}),
    "personas.jsonl": ("text", {"text"}),
    "math_test.jsonl": ("alpaca", {"sft"}),
}

PUBLIC_FORMATS = {
    "alpaca_gpt4.jsonl": ("alpaca", {"sft"}),
    "dolly_15k.jsonl": ("alpaca", {"sft"}),
    "sharegpt_vicuna.json": ("sharegpt", {"sft"}),
    "ultrachat_200k.jsonl": ("openai", {"sft"}),
    "openhermes_2_5.json": ("sharegpt", {"sft"}),
    "ultrafeedback_binarized.jsonl": ("trl", {"preference"}),
    "hh_rlhf.jsonl": ("hh", {"preference"}),
    "capybara.jsonl": ("sharegpt", {"sft"}),
    "glaive_function_calling_sharegpt.json": ("sharegpt", {"sft"}),
    "glaive_function_calling_v2.json": ("glaive", {"sft"}),
    "glaive_function_calling_v2_one_newline.json": ("glaive", {"sft"}),
    "llama_factory_ranking_alpaca.json": ("alpaca", {"preference"}),
    "openai_preference_finetune.jsonl": ("trl", {"preference"}),
    "lima.jsonl": ("sharegpt", {"sft"}),
    "openai_finetune.jsonl": ("openai", {"sft"}),
    "trl_implicit.jsonl": ("trl", {"preference"}),
    "trl_kto.jsonl": ("trl", {"kto"}),
    # shapes of the trainers' current data docs (typed by hand after LLaMA-Factory data/,
    # TRL's dataset formats, axolotl docs/dataset-formats)
    "llama_factory_v1_dpo.jsonl": ("trl", {"preference"}),
    "llama_factory_v1_tool_use.jsonl": ("openai", {"sft"}),
    "trl_prompt_only.jsonl": ("trl", {"sft"}),
    "trl_stepwise.jsonl": ("trl", {"sft"}),
    "axolotl_template_free.jsonl": ("text", {"text"}),
    "axolotl_instruction_styles.jsonl": ("alpaca", {"sft"}),
    "axolotl_dpo_alpaca_style.jsonl": ("alpaca", {"preference"}),  # argilla, icr
    "axolotl_dpo_chat_style.jsonl": ("trl", {"preference"}),  # chat_template.default, prompt_pairs, ultra
}


def _check_file(path: Path, fmt: str, kinds: set[str]) -> None:
    found: list[str] = []
    recs = list(iter_records(str(path), on_format=found.append))
    assert found == [fmt]
    assert recs and {r["kind"] for r in recs} == kinds
    rows = [row for _, _, row in raw_rows(str(path))]
    for rec, row in zip(recs, rows):
        back, lost = encode(rec, fmt)
        if path.suffix in (".parquet", ".csv"):
            continue  # typed containers: compared through the canonical fields elsewhere
        assert same(back, row), (rec["id"], back, row)
        assert lost == []
        assert "raw" not in rec["origin"], f"{rec['id']}: the format's hints should cover this row"


@pytest.mark.parametrize("name", sorted(SAMPLE_FORMATS))
def test_sample_files_detect_and_round_trip(name):
    assert set(SAMPLE_FORMATS) == {p.name for p in SAMPLES.iterdir()}, "every sample file is checked"
    _check_file(SAMPLES / name, *SAMPLE_FORMATS[name])


@pytest.mark.parametrize("name", sorted(EXAMPLE_FORMATS))
def test_example_files_detect_and_round_trip(name):
    assert set(EXAMPLE_FORMATS) == {p.name for p in EXAMPLES.iterdir()}, "every example file is checked"
    _check_file(EXAMPLES / name, *EXAMPLE_FORMATS[name])


@pytest.mark.parametrize("name", sorted(PUBLIC_FORMATS))
def test_public_row_shapes_detect_and_round_trip(name):
    assert set(PUBLIC_FORMATS) == {p.name for p in SHAPES.iterdir()}
    _check_file(SHAPES / name, *PUBLIC_FORMATS[name])


# -- each format, both directions -------------------------------------------------------------


def test_alpaca_both_directions():
    row = {"instruction": "Add", "input": "2 and 3", "output": "<think>\n2+3\n</think>\n\n5",
           "system": "math", "history": [["hi", "hello"]], "tag": "x"}
    rec = alpaca.to_record(row, id="r0")
    assert rec["kind"] == "sft" and rec["system"] == "math"
    assert [t["role"] for t in rec["messages"]] == ["user", "assistant", "user", "assistant"]
    assert rec["messages"][2]["content"] == "Add\n2 and 3"  # as LLaMA-Factory joins them
    assert rec["messages"][3] == {"role": "assistant", "content": "<think>\n2+3\n</think>\n\n5"}  # as trained
    assert rec["meta"] == {"tag": "x"}
    assert same(alpaca.from_record(rec)[0], row)


def test_alpaca_aliases_preference_and_kto():
    rec = alpaca.to_record({"question": "Capital?", "answer": "Paris"}, id="a")
    assert rec["messages"][0]["content"] == "Capital?" and rec["messages"][1]["content"] == "Paris"
    assert list(alpaca.from_record(rec)[0]) == ["question", "answer"]
    pref = alpaca.to_record({"instruction": "q", "input": "", "chosen": "good", "rejected": "bad"}, id="p")
    assert pref["kind"] == "preference" and pref["chosen"][0]["content"] == "good"
    assert pref["rejected"] == [{"role": "assistant", "content": "bad"}]
    kto = alpaca.to_record({"instruction": "q", "output": "a", "kto_tag": False}, id="k")
    assert kto["kind"] == "kto" and kto["label"] is False


def test_glaive_rows_with_one_newline_between_turns_split_into_turns():
    # some public glaive rows separate turns by one newline, not two blank lines
    first, second = iter_records(str(SHAPES / "glaive_function_calling_v2_one_newline.json"))
    assert [t["role"] for t in first["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert first["messages"][1]["tool_calls"] == [{"name": "add_note", "arguments": '{"text": "buy lentils"}'}]
    assert [t["content"] for t in second["messages"]] == [
        "Name a river in Peru.", "The Urubamba flows through Peru.", "And one in Chile?", "The Maipo is a river in Chile."]
    quoted = decode("glaive", {"chat": "USER: Fix this log:\nASSISTANT: hi\n\n\nASSISTANT: Fixed. <|endoftext|>\n\n\n"}, id="q")
    assert [t["content"] for t in quoted["messages"]] == ["Fix this log:\nASSISTANT: hi", "Fixed."]


def test_alpaca_output_pair_is_a_preference_row():
    # LLaMA-Factory's older ranking datasets put [chosen, rejected] in 'output'
    first, second = iter_records(str(SHAPES / "llama_factory_ranking_alpaca.json"))
    assert first["kind"] == "preference" and first["rejected"] == [{"role": "assistant", "content": "Bakery."}]
    assert [t["role"] for t in second["messages"]] == ["user", "assistant", "user"]
    assert second["chosen"][0]["content"] == "The Monday meeting was moved later in the week."
    row, lost = encode(second, "sharegpt")
    assert row["chosen"] == {"from": "gpt", "value": "The Monday meeting was moved later in the week."} and lost == []


def test_openai_preference_layout_reads_as_prompt_chosen_rejected():
    first, second = iter_records(str(SHAPES / "openai_preference_finetune.jsonl"))
    assert first["system"] == "Answer with the letter and the choice."
    assert [t["role"] for t in first["messages"]] == ["user"]
    assert first["chosen"] == [{"role": "assistant", "content": "B: whale"}]
    assert json.loads(second["tools"])[0]["function"]["name"] == "set_light"
    assert second["chosen"][0]["tool_calls"][0]["name"] == "set_light"
    row, lost = encode(second, "sharegpt")
    assert row["rejected"] == {"from": "gpt", "value": "I cannot control lights."}
    assert lost == ["tool call ids"]  # sharegpt's function_call turns have no ids


def test_lima_plain_string_turns_alternate_user_and_assistant():
    _, second = iter_records(str(SHAPES / "lima.jsonl"))
    assert [t["role"] for t in second["messages"]] == ["user", "assistant", "user", "assistant"]
    assert second["messages"][2]["content"] == "Now one about snow." and second["meta"] == {"source": "multi_turn"}
    row, lost = encode(second, "openai")
    assert row["messages"][1]["role"] == "assistant" and lost == []


def test_glaive_function_calls_become_tool_calls():
    rec = next(iter_records(str(SHAPES / "glaive_function_calling_v2.json")))
    assert rec["system"].startswith("You are a helpful assistant with access to the following functions")
    assert [t["role"] for t in rec["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert rec["messages"][1]["tool_calls"] == [{"name": "calculate_bmi", "arguments": '{"weight": 70, "height": 1.75}'}]
    row, lost = encode(rec, "sharegpt")
    assert lost == [] and row["conversations"][1] == {
        "from": "function_call", "value": '{"name": "calculate_bmi", "arguments": {"weight": 70, "height": 1.75}}'}


def test_dolly_context_is_the_input():
    rec = next(iter_records(str(SHAPES / "dolly_15k.jsonl")))
    assert rec["messages"][0]["content"].startswith("When was the Eiffel Tower completed?\nThe Eiffel Tower is")
    assert rec["meta"] == {"category": "closed_qa"}


def test_sharegpt_both_directions_with_tools():
    row = {"conversations": [
        {"from": "system", "value": "S"}, {"from": "human", "value": "weather?"},
        {"from": "function_call", "value": '{"name": "w", "arguments": {"city": "Oslo"}}'},
        {"from": "observation", "value": "3C"}, {"from": "gpt", "value": "It is 3C."}],
        "tools": '[{"name": "w"}]'}
    rec = sharegpt.to_record(row, id="s")
    assert rec["system"] == "S" and rec["tools"] == '[{"name": "w"}]'
    assert [t["role"] for t in rec["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert rec["messages"][1]["tool_calls"] == [{"name": "w", "arguments": '{"city": "Oslo"}'}]
    assert same(sharegpt.from_record(rec)[0], row)


def test_sharegpt_preference_and_kto():
    rec = sharegpt.to_record({"conversations": [{"from": "human", "value": "q"}],
                              "chosen": {"from": "gpt", "value": "a"}, "rejected": {"from": "gpt", "value": "b"}}, id="p")
    assert rec["kind"] == "preference" and rec["chosen"] == [{"role": "assistant", "content": "a"}]
    out = sharegpt.from_record(rec)[0]
    assert out["chosen"] == {"from": "gpt", "value": "a"}
    kto = sharegpt.to_record({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}],
                              "kto_tag": True}, id="k")
    assert kto["kind"] == "kto" and kto["label"] is True


def test_openai_messages_both_directions():
    row = {"messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        {"role": "assistant", "content": "<think>\nhmm\n</think>\n\ndone", "loss_weight": 0.5},
        {"role": "user", "content": "and?"},
        {"role": "assistant", "content": "yes", "reasoning_content": "short", "train": False}],
        "label": True}
    rec = messages.to_record(row, id="m")
    assert rec["kind"] == "kto" and rec["label"] is True and rec["system"] == "Be brief."
    t = rec["messages"]
    assert t[0] == {"role": "user", "content": "hi"}
    assert t[1]["tool_calls"] == [{"id": "c1", "name": "f", "arguments": "{}"}] and t[1]["content"] == ""
    assert t[2] == {"role": "tool", "content": "ok", "tool_call_id": "c1"}
    assert t[3] == {"role": "assistant", "content": "<think>\nhmm\n</think>\n\ndone", "train": 0.5}  # as trained
    assert t[5] == {"role": "assistant", "content": "yes", "reasoning": "short", "train": 0.0}
    assert same(messages.from_record(rec)[0], row)


def test_openai_reasoning_parts_are_kept_apart():
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": [
        {"type": "reasoning", "text": "think"}, {"type": "text", "text": "answer"}]}]}
    rec = messages.to_record(row, id="r")
    assert rec["messages"][1] == {"role": "assistant", "content": "answer", "reasoning": "think"}
    assert same(messages.from_record(rec)[0], row)


def test_trl_both_directions():
    row = {"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "q"}],
           "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}
    rec = trl.to_record(row, id="t")
    assert rec["kind"] == "preference" and rec["system"] == "S"
    assert rec["messages"] == [{"role": "user", "content": "q"}]
    assert same(trl.from_record(rec)[0], row)
    s = {"prompt": "q", "chosen": "a", "rejected": "b"}
    assert same(trl.from_record(trl.to_record(s, id="s"))[0], s)


def test_hh_both_directions():
    row = {"chosen": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how?\n\nAssistant: fine",
           "rejected": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how?\n\nAssistant: bad"}
    rec = hh.to_record(row, id="h")
    assert [t["content"] for t in rec["messages"]] == ["hi", "hello", "how?"]
    assert rec["chosen"] == [{"role": "assistant", "content": "fine"}]
    assert rec["rejected"] == [{"role": "assistant", "content": "bad"}]
    assert same(hh.from_record(rec)[0], row)


def test_text_both_directions():
    row = {"text": "plain words", "url": "u"}
    rec = text.to_record(row, id="x")
    assert rec["kind"] == "text" and rec["text"] == "plain words" and rec["meta"] == {"url": "u"}
    assert same(text.from_record(rec)[0], row)


def test_images_are_kept():
    row = {"messages": [{"role": "user", "content": "<image>What is this?"}, {"role": "assistant", "content": "A cat."}],
           "images": ["img/cat.jpg"]}
    rec = messages.to_record(row, id="i")
    assert rec["images"] == ["img/cat.jpg"]
    assert sharegpt.from_record(rec)[0]["images"] == ["img/cat.jpg"]
    assert same(messages.from_record(rec)[0], row)


def test_source_id_field_is_the_record_id():
    assert alpaca.to_record({"id": 42, "instruction": "a", "output": "b"}, id="x")["id"] == "42"
    recs = list(iter_records(str(SAMPLES / "alpaca.jsonl")))
    assert recs[1]["id"] == "alpaca.jsonl:1" and recs[1]["source"].endswith("alpaca.jsonl")


def test_detection_scores_pick_each_format():
    cases = {
        "alpaca": {"instruction": "a", "input": "", "output": "b"},
        "sharegpt": {"conversations": [{"from": "human", "value": "a"}]},
        "openai": {"messages": [{"role": "user", "content": "a"}]},
        "trl": {"prompt": "a", "chosen": "b", "rejected": "c"},
        "hh": {"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: c"},
        "glaive": {"system": "SYSTEM: hi", "chat": "USER: a\n\n\nASSISTANT: b <|endoftext|>\n\n\n"},
        "text": {"text": "a"},
    }
    for fmt, row in cases.items():
        assert detect([row])[0] == fmt, fmt
    assert detect([{"foo": 1}]) == (None, 0.0)
    assert set(cases) == set(FORMATS)


# -- A -> B -> A keeps what B can hold --------------------------------------------------------

CANON = ("kind", "system", "messages", "chosen", "rejected", "label", "tools", "images", "meta")


def _via(rec, b, a):
    row_b, lost_b = encode(rec, b)
    fmt_b = "trl" if b == "openai" and rec["kind"] == "preference" else b
    mid = decode(fmt_b, json.loads(json.dumps(row_b)), id=rec["id"])
    return mid, lost_b


@pytest.mark.parametrize("name", ["sharegpt.json", "openai_messages.jsonl", "alpaca.jsonl", "trl_preference.jsonl",
                                  "alpaca_preference.json", "sharegpt_kto.jsonl", "hh.jsonl"])
@pytest.mark.parametrize("b", ["openai", "sharegpt"])
def test_chat_formats_carry_each_other_losslessly(name, b):
    for rec in iter_records(str(SAMPLES / name)):
        mid, lost = _via(rec, b, rec["origin"]["format"])
        if lost:
            continue
        if b == "sharegpt":  # no field for reasoning held apart: it travels inside the answer, as a <think> block
            rec = {**rec, **{f: _inline_reasoning(rec[f]) for f in ("messages", "chosen", "rejected")}}
        for f in CANON:
            assert mid[f] == rec[f], (rec["id"], f, mid[f], rec[f])


def _inline_reasoning(turns):
    if turns is None:
        return None
    return [{k: v for k, v in t.items() if k != "reasoning"} | {"content": join_think(t["content"], t["reasoning"])}
            if t.get("reasoning") is not None and not t.get("tool_calls") else t for t in turns]


def test_converting_says_what_the_target_cannot_hold():
    rec = next(r for r in iter_records(str(SAMPLES / "openai_messages.jsonl")) if r["messages"][1].get("tool_calls"))
    row, lost = encode(rec, "alpaca")
    assert "tool calls" in lost and "tool turns" in lost
    assert row["instruction"] == rec["messages"][0]["content"]
    assert row["output"] == rec["messages"][-1]["content"]
    _, lost = encode(rec, "sharegpt")
    assert lost == ["tool call ids"]
    pref = next(iter_records(str(SAMPLES / "trl_preference.jsonl")))
    assert "the rejected side" in encode(pref, "text")[1]


def test_alpaca_through_sharegpt_and_back_is_identical():
    for rec in iter_records(str(SAMPLES / "alpaca.jsonl")):
        mid, lost = _via(rec, "sharegpt", "alpaca")
        assert not lost
        back, lost = encode(mid, "alpaca")
        assert not lost
        assert back["output"] == encode(rec, "alpaca")[0]["output"]
        assert back.get("history") == encode(rec, "alpaca")[0].get("history")


def test_directory_lists_every_sample_file():
    files = expand_paths([str(SAMPLES)])
    assert [Path(f).name for f in files] == sorted(SAMPLE_FORMATS)


def test_map_renames_are_restored_on_export(tmp_path):
    p = tmp_path / "q.jsonl"
    row = {"ask": "why?", "ctx": "", "reply": "because", "score": 3}
    p.write_text(json.dumps(row) + "\n")
    rec = next(iter_records(str(p), mapping={"ask": "instruction", "reply": "output", "ctx": "input"}))
    assert rec["messages"] == [{"role": "user", "content": "why?"}, {"role": "assistant", "content": "because"}]
    assert rec["meta"] == {"score": 3} and "raw" not in rec["origin"]
    assert same(encode(rec, "alpaca")[0], row)
    assert encode(rec, "sharegpt")[0] == {"conversations": [{"from": "human", "value": "why?"},
                                                            {"from": "gpt", "value": "because"}], "score": 3}


def test_same_compares_key_order_and_types():
    assert same({"a": [1, "s", {"x": None}]}, {"a": [1, "s", {"x": None}]})
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert not same({"x": {"a": 1, "b": 2}}, {"x": {"b": 2, "a": 1}})
    assert not same([1], [1.0]) and not same({"w": True}, {"w": 1})
    assert not same({"t": [{"a": 1, "b": True}]}, {"t": [{"a": 1, "b": 1}]})
