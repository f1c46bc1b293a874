"""Template specs: built-ins, tokenizer directories, files, GGUF; errors that say what was expected."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.templates.registry import BUILTINS, TemplateNotFound, get_template, list_templates
from workbench.templates.sandbox import compile_template


def test_builtins_are_listed_and_compile():
    names = [t.name for t in list_templates()]
    assert names == ["chatml", "alpaca", "vicuna", "llama-2", "llama-3", "mistral", "gemma", "zephyr", "phi-3",
                     "qwen2.5", "smollm2"]
    for t in list_templates():
        compile_template(t.source)
        assert t.eos_token and t.stop_tokens and t.description
        assert all(tok in t.special_tokens for tok in t.stop_tokens)


def test_unknown_and_missing_specs():
    with pytest.raises(TemplateNotFound, match="expected one of chatml"):
        get_template("chatlm")
    with pytest.raises(TemplateNotFound, match="does not exist"):
        get_template("jinja:/nonexistent/t.jinja")


def test_tokenizer_dir_errors(tmp_path):
    with pytest.raises(TemplateNotFound, match="no chat template"):
        get_template(f"tokenizer:{tmp_path}")
    (tmp_path / "tokenizer_config.json").write_text('{"chat_template": \n  oops}')
    with pytest.raises(TemplateNotFound, match="tokenizer_config.json: line 2: invalid JSON"):
        get_template(f"tokenizer:{tmp_path}")
    # Valid JSON of the wrong shape was a TypeError traceback.
    for value in (5, [{"name": "default", "template": 5}], {"default": ["x"]}):
        (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": value}))
        with pytest.raises(TemplateNotFound, match="chat_template must be a string or a list"):
            get_template(f"tokenizer:{tmp_path}")


def test_tokenizer_dir_with_chat_template_json(tmp_path):
    (tmp_path / "chat_template.json").write_text(json.dumps({"chat_template": "{{ eos_token }}"}))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"eos_token": "<|end_of_turn|>", "bos_token": None}))
    t = get_template(f"tokenizer:{tmp_path}")
    assert t.source == "{{ eos_token }}" and t.eos_token == "<|end_of_turn|>" and t.bos_token == ""
    assert t.stop_tokens == ("<|end_of_turn|>",)


def test_jinja_file_guesses_control_tokens(tmp_path):
    path = tmp_path / "t.jinja"
    path.write_text("{% for m in messages %}<|turn|>{{ m.content }}<|end|>{% endfor %}")
    t = get_template(f"jinja:{path}")
    assert t.special_tokens == ("<|turn|>", "<|end|>") and t.stop_tokens == ("<|end|>",)


@pytest.mark.slow
def test_gguf_spec_reads_the_bundled_model():
    from workbench.templates.tokens import smollm2_gguf

    t = get_template(f"gguf:{smollm2_gguf()}")
    assert t.source == get_template("smollm2").source
    assert (t.bos_token, t.eos_token) == ("<|im_start|>", "<|im_end|>") == (BUILTINS["smollm2"]["bos"],
                                                                              BUILTINS["smollm2"]["eos"])


def test_importing_the_api_stays_light():
    code = ("import sys, workbench.templates as t, workbench.templates.render, workbench.templates.lint, "
            "workbench.cli.templates; t.render_record; "
            "print(sorted(m for m in ('transformers', 'torch', 'tokenizers', 'textual', 'gguf') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
