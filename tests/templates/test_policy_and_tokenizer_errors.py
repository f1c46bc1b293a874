"""Options that cannot work say so in one line: --policy template without {% generation %} blocks,
`template lint --policy`, and a tokenizer directory that holds no vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.templates.lint import lint_records
from workbench.templates.registry import BUILTINS, get_template
from workbench.templates.render import render_conversation, render_record

HERE = Path(__file__).parent
CASES = HERE / "cases"
HERMES = HERE / "hf_templates" / "hermes_generation.jinja"
OWLS = str(CASES / "consecutive_assistant.jsonl")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _tokenizer_dir(tmp_path: Path, **files: str) -> Path:
    d = tmp_path / "tok"
    d.mkdir()
    (d / "tokenizer_config.json").write_text(json.dumps({"chat_template": get_template("chatml").source,
                                                         "eos_token": "<|im_end|>"}))
    for name, text in files.items():
        (d / name.replace("__", ".")).write_text(text)
    return d


@pytest.mark.parametrize("spec", [*BUILTINS, f"jinja:{HERE / 'hf_templates' / 'llama31_tools.jinja'}"])
def test_policy_template_without_generation_blocks_is_refused_by_name(spec):
    # every built-in mentions add_generation_prompt; none has a {% generation %} block
    rec = {"id": "x", "kind": "sft", "system": None, "messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    with pytest.raises(ValueError, match=r"has no \{% generation %\} blocks"):
        render_record(rec, spec, mask_policy="template")
    with pytest.raises(ValueError, match="generation"):
        render_conversation([{"role": "user", "content": "q"}], spec, mask_policy="template")
    with pytest.raises(ValueError, match="generation"):
        lint_records([(0, rec)], spec, mask_policy="template")
    assert render_record(rec, spec).ok  # the default policy renders


def test_generation_tag_spellings_are_recognised(tmp_path):
    for tag in ("{% generation %}", "{%- generation -%}", "{%generation%}"):
        f = tmp_path / "t.jinja"
        f.write_text("{% for m in messages %}" + tag + "{{ m.content }}{% endgeneration %}{% endfor %}")
        from workbench.templates import registry
        registry._load.cache_clear()
        assert get_template(f"jinja:{f}").has_generation, tag
    f.write_text("{{ 'generation' }}{% if add_generation_prompt %}x{% endif %}")
    registry._load.cache_clear()
    assert not get_template(f"jinja:{f}").has_generation


def test_cli_render_and_lint_refuse_policy_template_in_one_line(capsys):
    for cmd in (["render", "--mask"], ["lint"]):
        code, out, err = run(capsys, "template", cmd[0], OWLS, "-t", "chatml", "--policy", "template", *cmd[1:])
        assert code == 1 and out == "" and "Traceback" not in err
        assert err.strip().splitlines() == [
            "workbench: template chatml has no {% generation %} blocks, so the policy 'template' would train "
            "nothing; use the policy 'assistant' (trained spans found by rendering)"]


def test_lint_takes_policy_like_render(capsys):
    # Owls: two answers in a row; the last policy trains only the second, so nothing is flagged either way,
    # but a conversation that ends with the user trains nothing under every policy
    for policy in ("assistant", "last", "all", "template"):
        code, out, err = run(capsys, "template", "lint", OWLS, "-t", f"jinja:{HERMES}", "--policy", policy, "--json")
        report = json.loads(out)
        assert "nothing_trained" not in report["counts"], policy
    rec = {"id": "u", "kind": "sft", "system": None, "messages": [{"role": "user", "content": "hi"}]}
    assert lint_records([(0, rec)], f"jinja:{HERMES}", mask_policy="last").counts["nothing_trained"] == 1
    assert "nothing_trained" not in lint_records([(0, rec)], f"jinja:{HERMES}", mask_policy="all").counts


@pytest.mark.parametrize("extra", [{}, {"chat_template__jinja": "{{ messages[0].content }}"},
                                   {"special_tokens_map__json": "{}"}])
def test_tokenizer_dir_without_vocabulary_is_one_line_not_a_traceback(capsys, tmp_path, extra):
    d = _tokenizer_dir(tmp_path, **extra)
    code, out, err = run(capsys, "template", "render", OWLS, "-t", f"tokenizer:{d}", "--tokens")
    assert code == 1 and "Traceback" not in err
    # the rendering is still printed (chat_template.jinja, when present, wins over the config's template)
    assert out.startswith("Tell me two facts" if "chat_template__jinja" in extra else "<|im_start|>user\nTell me")
    (line,) = [ln for ln in err.splitlines() if not ln.startswith("workbench: note:")]
    assert line.startswith(f"workbench: cannot count tokens: {d}: no tokenizer.json") and "--tokenizer smollm2" in line
    code, out, err = run(capsys, "template", "lint", OWLS, "-t", f"tokenizer:{d}", "--max-len", "10")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "no tokenizer.json" in err


@pytest.mark.slow
def test_tokenizer_dir_with_a_tokenizer_json_counts(capsys, tmp_path, smol):
    d = _tokenizer_dir(tmp_path)
    smol.backend.save(str(d / "tokenizer.json"))
    code, out, err = run(capsys, "template", "render", OWLS, "-t", f"tokenizer:{d}", "--tokens")
    assert code == 0 and out.rstrip().splitlines()[-1].startswith("-- tokens ")
