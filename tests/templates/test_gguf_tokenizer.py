"""The bundled SmolLM2 tokenizer read straight from the GGUF metadata equals the one
transformers' GGUF converter builds (the same tokenizer.json, the same ids), so token counts
are ready at first use without the conversion; a file that is not GGUF is a one-line error."""

from __future__ import annotations

import json

import pytest

from workbench.templates.gguf_meta import GGUFError, read_metadata, tokenizer_json
from workbench.templates.registry import TemplateNotFound, get_template
from workbench.templates.tokens import smollm2_gguf

TEXTS = ["Hello world", "  two  spaces and\ttabs\n\nnew lines", "<|im_start|>user\nHi<|im_end|>\n",
         "naïve café 東京 😀 ﷽", "def f(x):\n    return x**2  # comment", "<think>reason</think>answer"]


def test_metadata_tokenizer_equals_transformers_conversion(tmp_path):
    from tokenizers import Tokenizer

    from workbench.templates.tokenizer_convert import convert_in_child

    ours = tokenizer_json(read_metadata(smollm2_gguf(), "tokenizer."))
    reference = tmp_path / "tokenizer.json"
    convert_in_child(smollm2_gguf(), reference)  # transformers' GGUF converter, in a child
    assert ours == json.loads(reference.read_text(encoding="utf-8"))
    a, b = Tokenizer.from_str(json.dumps(ours)), Tokenizer.from_file(str(reference))
    for text in TEXTS:
        assert a.encode(text).ids == b.encode(text).ids


def test_gguf_template_and_special_tokens_from_the_metadata():
    t = get_template(f"gguf:{smollm2_gguf()}")
    assert "<|im_start|>" in t.source and t.bos_token == "<|im_start|>" and t.eos_token == "<|im_end|>"


def test_not_a_gguf_file(tmp_path):
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 10)  # cut short
    with pytest.raises(GGUFError, match="x.gguf"):
        read_metadata(bad)
    bad.write_text("not gguf at all")
    with pytest.raises(TemplateNotFound, match="not a readable GGUF file"):
        get_template(f"gguf:{bad}")
