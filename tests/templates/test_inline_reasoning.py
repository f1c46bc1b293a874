"""Reasoning written inside an answer's text is rendered as the source holds it, as the trainer reads it.

The family: an answer whose text holds a reasoning block — <think>…</think> (DeepSeek-R1, Qwen3),
<|begin_of_thought|>…<|end_of_thought|> (Bespoke-Stratos, OpenThoughts), <reasoning>…</reasoning>
(GRPO-style) — at the start with any spacing, or later in the text, in OpenAI messages, ShareGPT,
Alpaca (output, history, preference pairs) and HH transcripts. The reader keeps the text; the
rendering, the lint and the export all see it; the split into `reasoning_content` happens only when
asked (`split_reasoning=True`, `--split-reasoning`). Reasoning held apart from the answer (a
`reasoning_content` field) is what a template can drop, and only that is `dropped_reasoning`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from workbench.data.formats import decode, encode
from workbench.data.formats.base import same
from workbench.data.readers import iter_records
from workbench.data.record import make_record
from workbench.templates.lint import lint_records
from workbench.templates.render import render_conversation, render_record

HERE = Path(__file__).parent
CASE = HERE / "cases" / "think_in_content.jsonl"
QWEN3 = f"jinja:{HERE / 'hf_templates' / 'qwen3_style_generation.jinja'}"
MARKERS = [("<think>", "</think>"), ("<|begin_of_thought|>", "<|end_of_thought|>"), ("<reasoning>", "</reasoning>")]
SPACING = [("", ""), ("\n", "\n\n"), (" ", " ")]
BODY = "The soup was cold, so the answer is negative."


def answers():
    for (o, c), (inner, after) in itertools.product(MARKERS, SPACING):
        yield f"{o}{inner}{BODY}{inner}{c}{after}Negative."
    yield f"Negative. {MARKERS[0][0]}{BODY}{MARKERS[0][1]}"  # not leading: plain text for every tool
    for o, _ in MARKERS:  # opened, never closed (cut off while it reasoned): plain text too
        yield f"{o}\n{BODY} Then"


def rows(answer: str):
    """The same answer in each chat format, as the source file would hold it."""
    yield "openai", {"messages": [{"role": "user", "content": "Classify: cold soup."},
                                  {"role": "assistant", "content": answer}]}
    yield "sharegpt", {"conversations": [{"from": "human", "value": "Classify: cold soup."},
                                         {"from": "gpt", "value": answer}]}
    yield "alpaca", {"instruction": "Classify.", "input": "cold soup", "output": answer,
                     "history": [["Classify: warm soup.", answer]]}
    yield "alpaca", {"instruction": "Classify.", "input": "cold soup", "chosen": answer, "rejected": "Positive."}
    yield "hh", {"chosen": f"\n\nHuman: Classify: cold soup.\n\nAssistant: {answer}",
                 "rejected": "\n\nHuman: Classify: cold soup.\n\nAssistant: Positive."}


@pytest.mark.parametrize("answer", list(answers()))
def test_inline_reasoning_renders_lints_and_exports_as_the_source_holds_it(answer):
    for fmt, row in rows(answer):
        rec = decode(fmt, row, id="r")
        turns = [t for t in (rec["messages"] + (rec["chosen"] or [])) if t["role"] == "assistant"]
        assert all("reasoning" not in t for t in turns) and answer in [t["content"] for t in turns], fmt
        assert same(encode(rec, fmt)[0], row), fmt  # export: byte for byte
        r = render_record(rec, "chatml")
        assert answer + "<|im_end|>" in r.text and answer + "<|im_end|>" in r.trained_text(), fmt
        # the preview is the trainer's rendering of the messages it reads, the block inside the answer
        if fmt == "openai":
            assert r.text == render_conversation(row["messages"], "chatml").text
        assert lint_records([(0, rec)], "chatml").counts == {}, fmt


def test_split_happens_only_when_asked_and_then_a_template_without_reasoning_drops_it():
    answer = f"<think>\n{BODY}\n</think>\n\nNegative."
    rec = decode("openai", next(rows(answer))[1], id="r")
    apart = make_record(id="a", messages=[rec["messages"][0], {"role": "assistant", "content": "Negative.",
                                                               "reasoning": BODY}])
    # a reasoning template given the split sees what it sees given reasoning_content apart
    assert render_record(rec, QWEN3, split_reasoning=True).text == render_record(apart, QWEN3).text
    # and, without the split, it splits the <think> block itself as Qwen3's template does: the same text
    assert render_record(rec, QWEN3).text == render_record(apart, QWEN3).text
    # ChatML has no place for reasoning held apart: dropped, and said so; kept inline, nothing is lost
    assert lint_records([(0, apart)], "chatml").counts == {"dropped_reasoning": 1}
    assert lint_records([(0, rec)], "chatml", split_reasoning=True).counts == {"dropped_reasoning": 1}
    assert lint_records([(0, rec)], "chatml").counts == {}
    assert lint_records([(0, apart)], QWEN3).counts == {}
    for (o, c), _ in itertools.product(MARKERS, SPACING):
        other = decode("openai", next(rows(f"{o}{BODY}{c}Negative."))[1], id="r")
        split = render_record(other, QWEN3, split_reasoning=True)
        assert f"<think>\n{BODY}\n</think>\n\nNegative.<|im_end|>" in split.trained_text(), o


def test_an_unclosed_block_is_not_split_even_when_asked():
    """Only the Sample pane shows an unclosed leading block as reasoning (tests/tui); --split-reasoning
    leaves the answer whole, as Qwen3's template, which splits at a </think>, does."""
    for o, _ in MARKERS:
        answer = f"{o}\n{BODY} Then"
        rec = decode("openai", next(rows(answer))[1], id="r")
        r = render_record(rec, QWEN3, split_reasoning=True)
        assert r.text == render_record(rec, QWEN3).text and answer + "<|im_end|>" in r.text, o
        assert lint_records([(0, rec)], "chatml", split_reasoning=True).counts == {}, o


def test_conversion_keeps_the_block_where_the_trainer_reads_it():
    answer = f"<think>{BODY}</think>Negative."
    sharegpt = decode("sharegpt", dict(rows(answer))["sharegpt"], id="s")
    assert encode(sharegpt, "openai")[0]["messages"][1] == {"role": "assistant", "content": answer}
    assert encode(sharegpt, "alpaca")[0]["output"] == answer


def test_case_file_renders_its_think_block_and_lints_clean():
    (rec,) = iter_records(str(CASE))
    answer = ("<think>The user asks about changing the address; explain the settings page.</think>"
              "Yes, open Settings and edit the address before the parcel ships.")
    assert rec["messages"][1] == {"role": "assistant", "content": answer}
    for name in ("chatml", "llama-3", "smollm2"):
        r = render_record(rec, name)
        assert answer in r.text and answer in r.trained_text(), name
        assert lint_records([(0, rec)], name).counts == {}, name


@pytest.mark.slow
def test_case_file_tokens_and_mask_equal_transformers_on_the_source_messages(hf_tok, smol):
    import json

    from workbench.templates.registry import get_template
    from workbench.templates.tokens import tokenize

    raw = json.loads(CASE.read_text())["messages"]
    (rec,) = iter_records(str(CASE))
    for name in ("hermes_generation", "qwen3_style_generation"):
        tpl = get_template(f"jinja:{HERE / 'hf_templates' / (name + '.jinja')}")
        theirs = hf_tok.apply_chat_template(raw, chat_template=tpl.source, tokenize=True, return_dict=True,
                                            return_assistant_tokens_mask=True, **tpl.context())
        counts = tokenize(render_record(rec, tpl), smol)
        assert counts.ids == list(theirs["input_ids"]) and counts.mask == list(theirs["assistant_masks"]), name
