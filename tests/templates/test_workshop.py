"""The template workshop's core: edited templates, errors at their line, lint on a sample,
saving into a tokenizer folder as transformers reads it."""

from __future__ import annotations

import json

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.templates import get_template, render_record
from workbench.templates.registry import _load
from workbench.templates.workshop import edited, lint_sample, save_jinja, save_to_tokenizer

REC = make_record(id="x", messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])


def test_edited_keeps_the_base_tokens_and_takes_the_text():
    src = ("{# <|custom|> #}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
           "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tpl = edited("chatml", src)
    assert tpl.source == src and tpl.eos_token == "<|im_end|>" and tpl.tokenizer == get_template("chatml").tokenizer
    assert "<|custom|>" in tpl.special_tokens
    r = render_record(REC, tpl)
    assert r.ok and r.trained_text() == "yo<|im_end|>"


@pytest.mark.parametrize("source,line,kind", [
    ("{% for m in messages %}\n{{ m.content }\n{% endfor %}", 2, "syntax"),  # a syntax error
    ("{% for m in messages %}\n{{ m.content }}\n\n{{ m.nope.deeper }}\n{% endfor %}", 4, "error"),  # at run time
    ("{% for m in messages %}\n{% if m.role == 'user' %}{{ raise_exception('no users') }}{% endif %}{% endfor %}",
     2, "rejected"),
])
def test_template_errors_carry_their_line(source, line, kind):
    r = render_record(REC, edited("chatml", source))
    assert (r.error_kind, r.error_line) == (kind, line)


def test_lint_sample_counts_per_kind_and_samples_big_sets():
    recs = [make_record(id=f"r{i}", messages=[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": ""}
                                              if i % 2 else {"role": "assistant", "content": "a"}]) for i in range(50)]
    ds = Dataset.from_records(recs, sources=["l.jsonl"])
    whole = lint_sample(ds, get_template("chatml"))
    assert not whole.sampled and whole.report.rows == 50 and whole.report.counts["empty_assistant"] == 25
    part = lint_sample(ds, get_template("chatml"), limit=10)
    assert part.sampled and part.of == 50 and part.report.rows == 10
    assert part.report.counts["empty_assistant"] == 5  # every fifth row: half of them odd
    assert lint_sample(ds, get_template("chatml"), limit=10).report.counts == part.report.counts  # same rows


def test_save_into_a_tokenizer_folder(tmp_path):
    src = "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
    folder = tmp_path / "tok"
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": "old", "eos_token": "</s>",
                                                              "model_max_length": 2048}))
    written = save_to_tokenizer(folder, src)
    assert [p.name for p in written] == ["chat_template.jinja", "tokenizer_config.json"]
    assert (folder / "chat_template.jinja").read_text() == src
    config = json.loads((folder / "tokenizer_config.json").read_text())
    assert config == {"chat_template": src, "eos_token": "</s>", "model_max_length": 2048}
    _load.cache_clear()
    assert get_template(f"tokenizer:{folder}").source == src
    # transformers reads the folder the same way
    from transformers import PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models

    Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]")).save(str(folder / "tokenizer.json"))
    tok = PreTrainedTokenizerFast.from_pretrained(str(folder))
    msgs = [{"role": "user", "content": "hi"}]
    assert tok.apply_chat_template(msgs, tokenize=False) == "[user] hi\n"
    # a list of named templates: the default one is replaced, the others kept
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": [
        {"name": "default", "template": "old"}, {"name": "tool_use", "template": "tools"}]}))
    save_to_tokenizer(folder, src)
    assert json.loads((folder / "tokenizer_config.json").read_text())["chat_template"] == [
        {"name": "default", "template": src}, {"name": "tool_use", "template": "tools"}]
    with pytest.raises(ValueError, match="not a tokenizer folder"):
        save_to_tokenizer(tmp_path, src)
    assert save_jinja(tmp_path / "t.jinja", src).read_text() == src
