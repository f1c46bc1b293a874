"""Trained spans on multi-turn, tool-use and preference rows, the mask options, and token counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from template_cases import cases
from workbench.data.record import make_record
from workbench.cli.templates import marked
from workbench.templates.registry import get_template
from workbench.templates.render import render_record, render_sides
from workbench.templates.tokens import token_mask, tokenize

HERE = Path(__file__).parent / "hf_templates"


def trained(r) -> list[str]:
    return [r.text[s:e] for s, e, t in r.spans if t]


def test_spans_cover_the_text_exactly():
    for name in ("chatml", "llama-2", "phi-3", "qwen2.5", "zephyr"):
        for rec in cases().values():
            for r in render_sides(rec, name):
                if r.error:
                    continue
                assert [s for s, _, _ in r.spans] == [0] + [e for _, e, _ in r.spans[:-1]]
                assert (r.spans[-1][1] if r.spans else 0) == len(r.text)


@pytest.mark.parametrize("name,expected", [
    ("chatml", ["Hello.<|im_end|>", "2 is both — «naïve» 🙂<|im_end|>"]),
    ("llama-3", ["Hello.<|eot_id|>", "2 is both — «naïve» 🙂<|eot_id|>"]),
    ("llama-2", [" Hello. </s>", " 2 is both — «naïve» 🙂 </s>"]),
    ("mistral", [" Hello.</s>", " 2 is both — «naïve» 🙂</s>"]),
    ("zephyr", ["Hello.</s>", "2 is both — «naïve» 🙂</s>"]),
    ("phi-3", ["Hello.<|end|>", "2 is both — «naïve» 🙂<|end|>"]),  # not Phi-3's closing <|endoftext|>
    ("vicuna", [" Hello.</s>", " 2 is both — «naïve» 🙂</s>"]),
    ("alpaca", ["Hello.</s>", "2 is both — «naïve» 🙂</s>"]),
])
def test_multi_turn_trains_each_answer_and_its_end_token(name, expected):
    r = render_record(cases()["system_multi"], name)
    assert r.error is None
    assert trained(r) == expected
    assert "You are terse." not in r.trained_text() and "Hi there" not in r.trained_text()


def test_train_eos_off_leaves_the_end_token_untrained():
    r = render_record(cases()["system_multi"], "llama-3", train_eos=False)
    assert trained(r) == ["Hello.", "2 is both — «naïve» 🙂"]


def test_tool_use_trains_calls_and_answers_not_tool_results():
    r = render_record(cases()["tool_use"], "qwen2.5")
    spans = trained(r)
    assert len(spans) == 3
    assert spans[0].startswith("<tool_call>\n{\"name\": \"get_weather\"") and spans[0].endswith("</tool_call><|im_end|>")
    assert '"Oslo"' in spans[1]
    assert spans[2] == "Paris: 18C and sunny. Oslo: 9C with rain.<|im_end|>"
    assert "18C, sunny" not in r.trained_text() and "<tool_response>" not in r.trained_text()
    # consecutive tool turns share one user block in Qwen's template; their results stay untrained
    p = render_record(cases()["parallel_tools"], "qwen2.5")
    assert "<tool_response>" not in p.trained_text() and "25C\n</tool_response>" in p.text
    assert trained(p)[-1] == "Rome 25C, Milan 22C.<|im_end|>"


def test_preference_trains_only_the_continuation_on_each_side():
    chosen, rejected = render_sides(cases()["preference"], "chatml")
    assert (chosen.side, rejected.side) == ("chosen", "rejected")
    assert trained(chosen) == ["Next time, start a week early.<|im_end|>"]
    assert trained(rejected) == ["Then you deserved it.<|im_end|>"]
    # the prompt's earlier answer is context for both sides
    assert "What happened?" in chosen.text and "What happened?" not in chosen.trained_text()
    assert render_record(cases()["preference"], "chatml", side="rejected").text == rejected.text
    with pytest.raises(ValueError, match="no 'rejected' side"):
        render_record(cases()["single"], "chatml", side="rejected")


def test_policies_last_and_all():
    rec = cases()["system_multi"]
    assert trained(render_record(rec, "chatml", mask_policy="last")) == ["2 is both — «naïve» 🙂<|im_end|>"]
    r = render_record(rec, "chatml", mask_policy="all")
    assert r.spans == [(0, len(r.text), True)]
    with pytest.raises(ValueError, match="unknown mask policy"):
        render_record(rec, "chatml", mask_policy="everything")


def test_per_turn_train_weights_override_the_policy():
    rec = make_record(id="w", messages=[
        {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "bad answer", "train": 0},
        {"role": "user", "content": "Q2", "train": 1.0}, {"role": "assistant", "content": "good answer", "train": 2.5}])
    r = render_record(rec, "chatml")
    assert "bad answer" not in r.trained_text()
    assert "good answer" in r.trained_text()
    assert "<|im_start|>user\nQ2<|im_end|>\n" in r.trained_text()  # a trained user turn is trained whole
    assert [t.weight for t in r.turns] == [1.0, 0.0, 1.0, 2.5]


def test_generation_prompt_is_not_trained_and_phi3_trailing_eos_is_outside():
    r = render_record(cases()["ends_with_user"], "chatml", add_generation_prompt=True)
    assert r.text.endswith("<|im_start|>assistant\n") and r.trained_text() == ""
    p = render_record(cases()["single"], "phi-3")
    assert p.text.endswith("<|end|>\n<|endoftext|>") and trained(p) == ["Paris.<|end|>"]


def test_reasoning_is_trained_with_its_answer():
    r = render_record(cases()["reasoning"], f"jinja:{HERE / 'hermes_generation.jinja'}")
    assert trained(r) == ["<think>\n17 * 3 = 51.\n</think>\n\n51<|im_end|>"]


def test_template_that_reorders_earlier_turns_is_masked_by_rendering():
    # Mistral v3 folds the system prompt into the *last* user turn, so prefixes do not line up; the answers
    # are found by re-rendering with each one marked, and start after the "[/INST]" that closes the user turn
    r = render_record(cases()["system_multi"], f"jinja:{HERE / 'mistral_v3_tools.jinja'}")
    assert r.warnings == []
    assert trained(r) == [" Hello.", " 2 is both — «naïve» 🙂"]
    tools = render_record(cases()["tool_use"], f"jinja:{HERE / 'mistral_v3_tools.jinja'}")
    assert [t[:14] for t in trained(tools)] == ["[TOOL_CALLS] [", "[TOOL_CALLS] [", " Paris: 18C an"]


def test_special_tokens_are_found():
    r = render_record(cases()["single"], "llama-3")
    assert [r.text[s:e] for s, e in r.special][:3] == ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>"]


def test_marked_output_plain_and_colour():
    r = render_record(cases()["single"], "chatml")
    assert marked(r, colour=False) == ("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                                       "<|im_start|>assistant\n[[Paris.<|im_end|>]]\n")
    coloured = marked(r, colour=True)
    assert "\x1b[30;42mParis.\x1b[0m" in coloured and "[[" not in coloured


def test_token_mask_from_offsets():
    spans = [(0, 5, False), (5, 9, True), (9, 12, False)]
    assert token_mask([(0, 3), (3, 6), (6, 9), (9, 12), (12, 12)], spans) == [0, 1, 1, 0, 0]


@pytest.mark.slow
def test_tokens_counts_and_truncation(smol):
    r = render_record(cases()["system_multi"], "smollm2")
    c = tokenize(r, smol, max_len=12)
    assert c.total == len(c.ids) == len(c.mask) and c.trained + c.untrained == c.total
    trained_tokens = "".join(smol.backend.decode([i], skip_special_tokens=False) for i, m in zip(c.ids, c.mask) if m)
    assert trained_tokens == "Hello.<|im_end|>2 is both — «naïve» 🙂<|im_end|>"
    assert c.over and c.truncated_at == c.offsets[12][0] and c.trained_lost == c.trained
    assert r.text[:c.truncated_at].startswith("<|im_start|>system\nYou are terse.")
    fits = tokenize(r, smol, max_len=10_000)
    assert not fits.over and fits.truncated_at is None and fits.trained_lost == 0
    # the GGUF's own vocabulary agrees with the converted tokenizer on control tokens
    from workbench.templates.registry import read_gguf_tokenizer
    from workbench.templates.tokens import smollm2_gguf

    meta = read_gguf_tokenizer(smollm2_gguf())
    assert smol.backend.token_to_id(meta["bos"]) == 1 and smol.backend.token_to_id(meta["eos"]) == 2
    assert get_template("smollm2").source == meta["chat_template"]
