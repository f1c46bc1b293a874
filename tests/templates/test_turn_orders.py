"""Masks on every turn order and on templates that render history differently from the last turn,
compared token for token with transformers' apply_chat_template(return_assistant_tokens_mask=True).

The family: any sequence of user / assistant / tool turns (an answer first, answers in a row, a
conversation ending with the user, tool results in a row), with or without a system prompt, with
reasoning on some answers, through templates with {% generation %} blocks that add a default system
prompt (Qwen2.5 / SmolLM2 style) or keep reasoning only after the last user query (Qwen3 style).
Our masks come from rendering (policy "assistant"); transformers' from the generation blocks.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from jinja2.exceptions import TemplateError

from workbench.data.readers import iter_records
from workbench.data.record import make_record
from workbench.templates.messages import conversations
from workbench.templates.registry import get_template
from workbench.templates.render import render_record, render_sides
from workbench.templates.tokens import tokenize

HERE = Path(__file__).parent
CASES = HERE / "cases"
TEMPLATES = ["hermes_generation", "qwen3_style_generation", "chatml_default_system_generation"]
pytestmark = pytest.mark.slow  # transformers and the SmolLM2 tokenizer


def _template(name: str):
    return get_template(f"jinja:{HERE / 'hf_templates' / (name + '.jinja')}")


def _theirs(hf_tok, tpl, conv):
    out = hf_tok.apply_chat_template(conv.messages, tools=conv.tools, chat_template=tpl.source, tokenize=True,
                                     return_dict=True, return_assistant_tokens_mask=True, **tpl.context())
    return list(out["input_ids"]), list(out["assistant_masks"])


def _compare(hf_tok, smol, tpl, rec) -> tuple[int, int] | None:
    """Assert our masks (policies assistant and template) equal transformers'; (tokens, trained) or None if refused."""
    (conv,) = conversations(rec)
    try:
        ids, mask = _theirs(hf_tok, tpl, conv)
    except TemplateError:
        return None
    for policy in ("assistant", "template"):
        r = render_record(rec, tpl, mask_policy=policy)
        assert r.error is None and r.warnings == [], (rec["id"], policy, r.error, r.warnings)
        counts = tokenize(r, smol)
        assert counts.ids == ids, (tpl.name, rec["id"])
        assert counts.mask == mask, (tpl.name, rec["id"], policy, r.trained_text())
    return len(ids), sum(mask)


def _turn(role: str, i: int) -> dict:
    if role == "user":
        return {"role": "user", "content": f"Question {i}: why is the sky blue?"}
    if role == "tool":
        return {"role": "tool", "content": f"result {i}: 42"}
    turn = {"role": "assistant", "content": f"Answer {i}: the sky is blue."}
    if i % 2:  # the answer's words also occur in its reasoning
        turn["reasoning"] = f"Answer {i}: the sky is blue. Check: Rayleigh scattering, so the sky is blue."
    return turn


def _orders():
    for n in range(1, 6):
        yield from itertools.product(("user", "assistant"), repeat=n)
    # tool results after a call, in a row, then more answers
    yield ("user", "call", "tool", "assistant")
    yield ("user", "call", "tool", "tool", "assistant", "user", "assistant")
    yield ("user", "call", "tool", "call", "tool", "assistant", "assistant")
    yield ("call", "tool", "assistant")


def _record(order, system: bool):
    turns = []
    for i, role in enumerate(order):
        if role == "call":
            turns.append({"role": "assistant", "content": "", "reasoning": f"look it up {i}",
                          "tool_calls": [{"id": f"c{i}", "name": "lookup", "arguments": f'{{"q": "sky {i}"}}'}]})
        else:
            turns.append(_turn(role, i))
    return make_record(id="/".join(order) + ("+system" if system else ""), system="Be brief." if system else None,
                       messages=turns)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_turn_order_masks_like_transformers(hf_tok, smol, name):
    tpl = _template(name)
    compared = with_answers = 0
    for order in _orders():
        for system in (False, True):
            got = _compare(hf_tok, smol, tpl, _record(order, system))
            if got is not None:
                compared += 1
                with_answers += got[1] > 0
    assert compared >= 120 and with_answers >= 100


def test_consecutive_answers_case_trains_17_of_39_tokens(hf_tok, smol):
    (rec,) = iter_records(str(CASES / "consecutive_assistant.jsonl"))
    assert _compare(hf_tok, smol, _template("hermes_generation"), rec) == (39, 17)
    r = render_record(rec, _template("hermes_generation"))
    assert [r.text[s:e] for s, e, t in r.spans if t] == ["Owls can turn their heads far.<|im_end|>",
                                                         "Many owls hunt at night.<|im_end|>"]


def test_assistant_first_case_trains_neither_headers_nor_the_default_system_prompt(hf_tok, smol):
    recs = list(iter_records(str(CASES / "assistant_first_sharegpt.json")))
    for name in TEMPLATES:
        for rec in recs:
            assert _compare(hf_tok, smol, _template(name), rec)[1] > 0
    r = render_record(recs[1], _template("chatml_default_system_generation"))
    assert r.text.startswith("<|im_start|>system\nYou are a helpful assistant.")
    assert [r.text[s:e] for s, e, t in r.spans if t] == ["Welcome! How can I help?<|im_end|>",
                                                         "I can also answer questions about the weather.<|im_end|>"]
    # the same through a built-in whose default system prompt transformers renders (Qwen2.5)
    q = render_record(recs[1], "qwen2.5")
    assert "You are Qwen" in q.text and "You are Qwen" not in q.trained_text()
    assert "<|im_start|>" not in q.trained_text()


def test_reasoning_kept_only_on_the_last_turn_is_trained_whole(hf_tok, smol):
    # Qwen3 style: the final answer's <think> block is trained with it, even when the answer's words occur in
    # the reasoning; earlier answers are trained as the history shows them (their reasoning is not in the text)
    tpl = _template("qwen3_style_generation")
    rec = make_record(id="q3", messages=[
        {"role": "user", "content": "Is 91 prime?"},
        {"role": "assistant", "content": "No.", "reasoning": "91 = 7 * 13, so No."},
        {"role": "user", "content": "And 97?"},
        {"role": "assistant", "content": "Yes, 97 is prime.",
         "reasoning": "Try 2, 3, 5, 7: none divides. Yes, 97 is prime."}])
    tokens, trained = _compare(hf_tok, smol, tpl, rec)
    r = render_record(rec, tpl)
    assert [r.text[s:e] for s, e, t in r.spans if t] == [
        "No.<|im_end|>", "<think>\nTry 2, 3, 5, 7: none divides. Yes, 97 is prime.\n</think>\n\nYes, 97 is prime.<|im_end|>"]
    assert "91 = 7 * 13" not in r.text
    # a tool loop after the last query keeps every step's reasoning, trained with its step
    loop = _record(("user", "call", "tool", "assistant"), False)
    _compare(hf_tok, smol, tpl, loop)
    steps = [r for r in render_record(loop, tpl).turns if r.trained]
    assert len(steps) == 2 and all("<think>" in render_record(loop, tpl).text[s:e] for s, e in (t.trained for t in steps))


def test_preference_sides_on_unusual_orders_match_generation_blocks(hf_tok, smol):
    tpl = _template("qwen3_style_generation")
    rec = make_record(id="p", kind="preference", messages=[{"role": "user", "content": "Hi"}],
                      chosen=[{"role": "assistant", "content": "Hello!", "reasoning": "greet"},
                              {"role": "assistant", "content": "How can I help?"}],
                      rejected=[{"role": "assistant", "content": "What."}])
    for policy in ("template", "assistant"):  # the prompt is one user turn: both train exactly the continuation
        for conv, r in zip(conversations(rec), render_sides(rec, tpl, mask_policy=policy)):
            ids, mask = _theirs(hf_tok, tpl, conv)
            assert tokenize(r, smol).mask == mask, (conv.side, policy)
    chosen = render_sides(rec, tpl)[0]
    assert chosen.trained_text() == ("<think>\ngreet\n</think>\n\nHello!<|im_end|>"
                                     "<think>\n\n</think>\n\nHow can I help?<|im_end|>")
