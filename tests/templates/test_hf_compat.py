"""Byte-for-byte agreement with transformers' apply_chat_template, built-ins and templates from elsewhere."""

from __future__ import annotations

import glob
import json
import shutil
from pathlib import Path

import pytest
from jinja2.exceptions import TemplateError

from template_cases import cases
from workbench.data.dataset import Dataset
from workbench.templates.messages import conversations
from workbench.templates.registry import BUILTINS, get_template
from workbench.templates.render import render_sides
from workbench.templates.tokens import tokenize

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent / "hf_templates"
pytestmark = pytest.mark.slow  # loads the SmolLM2 tokenizer and transformers


def _records() -> list[dict]:
    recs = list(cases().values())
    for path in sorted(glob.glob(str(REPO / "sample_data" / "*"))):
        recs += Dataset.open([path]).records()
    return recs


def _theirs(hf_tok, tpl, conv, agp):
    try:
        return hf_tok.apply_chat_template(conv.messages, tools=conv.tools, chat_template=tpl.source_for(conv.tools),
                                          add_generation_prompt=agp, tokenize=False, **tpl.context())
    except TemplateError as e:
        return e


def _compare(hf_tok, tpl, records) -> tuple[int, int]:
    """Every side of every record, with and without the generation prompt. Returns (agreed texts, agreed errors)."""
    texts = errors = 0
    for rec in records:
        for agp in (False, True):
            ours = render_sides(rec, tpl, add_generation_prompt=agp)
            for conv, r in zip(conversations(rec), ours):
                theirs = _theirs(hf_tok, tpl, conv, agp)
                where = f"{tpl.name} row {rec['id']} {conv.side} agp={agp}"
                if isinstance(theirs, Exception):
                    assert r.error and str(theirs) in r.error, f"{where}: transformers raised {theirs!r}, we gave {r.error!r}"
                    errors += 1
                else:
                    assert r.error is None, f"{where}: {r.error}"
                    assert r.text == theirs, where
                    texts += 1
    return texts, errors


@pytest.mark.parametrize("name", list(BUILTINS))
def test_builtin_renders_like_transformers(hf_tok, name):
    texts, _ = _compare(hf_tok, get_template(name), _records())
    assert texts > 50


def test_builtins_reject_what_transformers_rejects(hf_tok):
    # gemma has no system role; llama-2 and mistral insist on alternation
    recs = [cases()["not_alternating"], cases()["system_multi"]]
    rejected = sum(_compare(hf_tok, get_template(n), recs)[1] for n in ("gemma", "llama-2", "mistral"))
    assert rejected == 8  # gemma x2 records x2 agp, llama-2 and mistral: not_alternating x2 agp


@pytest.mark.parametrize("spec", ["hermes_generation", "llama31_tools", "mistral_v3_tools"])
def test_templates_from_elsewhere_render_like_transformers(hf_tok, spec):
    tpl = get_template(f"jinja:{HERE / (spec + '.jinja')}")
    tpl = type(tpl)(**{**tpl.__dict__, "bos_token": "<s>", "eos_token": "</s>"})
    texts, errors = _compare(hf_tok, tpl, _records())
    assert texts > 50
    if spec != "llama31_tools":  # both others raise on roles they refuse
        assert errors > 0


def test_tokenizer_dir_template_renders_like_transformers(hf_tok, smol, tmp_path):
    # A tokenizer directory as the Hub ships it: named templates in tokenizer_config.json, bos/eos as AddedToken dicts
    tool_template = (HERE / "hermes_generation.jinja").read_text()
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({
        "chat_template": [{"name": "default", "template": get_template("chatml").source},
                          {"name": "tool_use", "template": tool_template}],
        "bos_token": {"content": "<|im_start|>", "special": True}, "eos_token": "<|im_end|>",
        "added_tokens_decoder": {"1": {"content": "<|im_start|>", "special": True},
                                 "2": {"content": "<|im_end|>", "special": True}},
    }))
    smol.backend.save(str(tmp_path / "tokenizer.json"))
    tpl = get_template(f"tokenizer:{tmp_path}")
    assert tpl.bos_token == "<|im_start|>" and tpl.eos_token == "<|im_end|>"
    assert "<|im_end|>" in tpl.stop_tokens
    texts, _ = _compare(hf_tok, tpl, list(cases().values()))
    assert texts > 10
    # rows with tools use the tool_use template, the others the default
    assert "<tools>" in render_sides(cases()["tool_use"], tpl)[0].text
    assert render_sides(cases()["single"], tpl)[0].text.startswith("<|im_start|>user")
    # chat_template.jinja, as transformers >= 4.43 saves it, wins over the config
    shutil.copy(HERE / "llama31_tools.jinja", tmp_path / "chat_template.jinja")
    from workbench.templates import registry

    registry._load.cache_clear()  # specs are cached per process; the directory changed under it
    assert "Cutting Knowledge Date" in get_template(f"tokenizer:{tmp_path}").source


def test_masks_equal_transformers_generation_masks(hf_tok, smol):
    """Our prefix-rendering masks equal the {% generation %} masks transformers computes, token for token."""
    tpl = get_template(f"jinja:{HERE / 'hermes_generation.jinja'}")
    compared = 0
    for rec in list(cases().values()):
        for conv in conversations(rec):
            try:
                out = hf_tok.apply_chat_template(conv.messages, tools=conv.tools, chat_template=tpl.source,
                                                 tokenize=True, return_dict=True, return_assistant_tokens_mask=True,
                                                 **tpl.context())
            except TemplateError:
                continue
            for policy in ("assistant", "template"):
                r = next(s for s in render_sides(rec, tpl, mask_policy=policy) if s.side == conv.side)
                counts = tokenize(r, smol)
                assert counts.ids == list(out["input_ids"]), rec["id"]
                if conv.side == "conversation" or policy == "template":
                    assert counts.mask == list(out["assistant_masks"]), (rec["id"], policy)
                    compared += 1
    assert compared >= 12
