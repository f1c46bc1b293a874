from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.llm.cache import cache_key
from workbench.llm.prompts import PromptError, load_overrides, render


def test_user_templates_render_sandboxed(tmp_path):
    f = tmp_path / "cot.j2"
    f.write_text("Think about: {{ instruction }} / {{ answer | upper }}")
    ov = load_overrides([f"cot={f}"])
    assert render("cot", ov, instruction="q", answer="a") == "Think about: q / A"
    evil = tmp_path / "evil.j2"
    evil.write_text("{{ instruction.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(PromptError, match="outside the sandbox"):
        render("cot", load_overrides([f"cot={evil}"]), instruction="q", answer="a")
    with pytest.raises(PromptError, match="UndefinedError"):
        render("cot", ov, instruction="q")
    bad = tmp_path / "bad.j2"
    bad.write_text("line one\n{% if %}")
    with pytest.raises(PromptError, match=r"bad.j2:2"):
        load_overrides([f"cot={bad}"])
    with pytest.raises(PromptError, match="NAME=FILE"):
        load_overrides(["nope=x"])


def test_cache_key_normalises_params():
    m = [{"role": "user", "content": "hi", "name": None}]
    assert cache_key("a", m, {"temperature": 0.7, "n": 1}) == cache_key("a", [{"role": "user", "content": "hi"}],
                                                                         {"n": 1, "temperature": 0.7, "seed": None})
    assert cache_key("a", m, {"temperature": 0.7}) != cache_key("b", m, {"temperature": 0.7})
    assert cache_key("a", m, {"temperature": 0.7}) != cache_key("a", m, {"temperature": 0.8})
    # the same model name behind two servers is two models; a trailing slash is the same server
    assert cache_key("a", m, {}, "http://127.0.0.1:1/v1") != cache_key("a", m, {}, "http://127.0.0.1:2/v1")
    assert cache_key("a", m, {}, "http://127.0.0.1:1/v1/") == cache_key("a", m, {}, "http://127.0.0.1:1/v1")
    assert cache_key("a", m, {}, "http://127.0.0.1:1/v1") != cache_key("a", m, {})


def test_llm_modules_import_without_litellm_or_torch():
    code = ("import sys, workbench.llm.client, workbench.llm.local, workbench.cli.ops, "
            "workbench.ops.generation.judge, workbench.ops.generation.best_of_n, workbench.ops.generation.self_instruct;"
            "heavy = [m for m in ('litellm', 'torch', 'transformers', 'textual') if m in sys.modules];"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_built_in_prompts_render_in_process_and_user_ones_in_the_sandbox(tmp_path):
    import workbench.templates.sandbox as sandbox

    before = len(sandbox._POOL._idle)
    # a row's text is data, even when it looks like template code
    assert render("answer", None, instruction="{{ 7 * 7 }} {% raw %}") == "{{ 7 * 7 }} {% raw %}"
    with pytest.raises(PromptError, match="'answer' is undefined"):
        render("cot", None, instruction="q")
    assert len(sandbox._POOL._idle) == before  # no rendering process was needed
    f = tmp_path / "answer.j2"
    f.write_text("{{ instruction }}!")
    assert render("answer", load_overrides([f"answer={f}"]), instruction="hi") == "hi!"
    assert len(sandbox._POOL._idle) >= 1  # the user's template went through a rendering process
