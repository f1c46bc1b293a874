"""Alpaca instruction + input become the user turn LLaMA-Factory trains on: the non-empty ones, one newline apart.

LLaMA-Factory's AlpacaDatasetConverter keeps `instruction` and `input` when they are non-empty and
joins them with "\\n"; the preview, the token counts and every conversion start from that turn.
"""

from __future__ import annotations

import itertools
import json

from pathlib import Path

import pytest

from workbench.data.formats import alpaca, encode
from workbench.data.formats.base import same
from workbench.data.readers import iter_records
from workbench.templates.registry import get_template
from workbench.templates.render import render_record
from workbench.templates.tokens import tokenize

CASE = str(Path(__file__).parent / "cases" / "alpaca_with_input.json")


def llama_factory_user(instruction: str, inp: str) -> str:
    """The rule as LLaMA-Factory states it, written out independently of the reader."""
    return "\n".join(x for x in (instruction, inp) if x)


@pytest.mark.parametrize("instruction,inp", list(itertools.product(
    ["Classify the review.", "", "Ends with a newline\n", "  spaced  "],
    ["The soup was cold.", "", "\nstarts with a newline", "line one\nline two"])))
@pytest.mark.parametrize("input_key", ["input", "context"])
def test_user_turn_joins_like_llama_factory_and_writes_back_byte_exact(instruction, inp, input_key):
    row = {"instruction": instruction, input_key: inp, "output": "Negative."}
    rec = alpaca.to_record(row, id="r")
    assert rec["messages"][0] == {"role": "user", "content": llama_factory_user(instruction, inp)}
    back, lost = alpaca.from_record(rec)
    assert lost == [] and same(back, row)


def test_history_preference_and_kto_rows_join_the_same_way():
    hist = alpaca.to_record({"instruction": "Now this one.", "input": "Soup was fine.", "output": "Positive.",
                             "history": [["Classify: bad soup", "Negative."]]}, id="h")
    assert hist["messages"][2]["content"] == "Now this one.\nSoup was fine."
    pref = alpaca.to_record({"instruction": "Rate", "input": "cold soup", "chosen": "bad", "rejected": "good"}, id="p")
    assert pref["messages"][0]["content"] == "Rate\ncold soup"
    kto = alpaca.to_record({"instruction": "Rate", "input": "cold soup", "output": "bad", "kto_tag": True}, id="k")
    assert kto["messages"][0]["content"] == "Rate\ncold soup"
    for rec in (hist, pref, kto):
        assert alpaca.from_record(rec)[1] == []


def test_case_file_previews_and_converts_with_one_newline(tmp_path):
    (rec,) = iter_records(CASE)
    raw = json.load(open(CASE))[0]
    user = raw["instruction"] + "\n" + raw["input"]
    r = render_record(rec, "chatml")
    assert f"<|im_start|>user\n{user}<|im_end|>" in r.text
    # to ShareGPT / OpenAI messages the human turn is the joined text, and back to alpaca it splits again
    sharegpt, _ = encode(rec, "sharegpt")
    assert sharegpt["conversations"][0]["value"] == user
    openai, _ = encode(rec, "openai")
    assert openai["messages"][0]["content"] == user
    assert same(encode(rec, "alpaca")[0], raw)


@pytest.mark.slow
def test_case_file_token_count_matches_transformers(hf_tok, smol):
    (rec,) = iter_records(CASE)
    raw = json.load(open(CASE))[0]
    messages = [{"role": "user", "content": raw["instruction"] + "\n" + raw["input"]},
                {"role": "assistant", "content": raw["output"]}]
    r = render_record(rec, "smollm2")
    theirs = hf_tok.apply_chat_template(messages, chat_template=get_template("smollm2").source, tokenize=True,
                                        return_dict=True)
    assert tokenize(r, smol).ids == list(theirs["input_ids"])
