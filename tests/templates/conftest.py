"""Shared fixtures: the SmolLM2 tokenizer, converted once per session, as ours and as transformers'."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def smol(tmp_path_factory):
    """Our TextTokenizer for SmolLM2 (converted from the bundled GGUF into a session cache)."""
    from workbench.templates import tokens

    old = os.environ.get("WORKBENCH_HOME")
    os.environ["WORKBENCH_HOME"] = str(tmp_path_factory.mktemp("tokcache"))
    try:
        return tokens.load_tokenizer("smollm2")
    finally:
        if old is None:
            os.environ.pop("WORKBENCH_HOME", None)
        else:
            os.environ["WORKBENCH_HOME"] = old


@pytest.fixture(scope="session")
def hf_tok(smol):
    """A transformers tokenizer over the same vocabulary, to call its real apply_chat_template."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=smol.backend, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   unk_token="<|endoftext|>", pad_token="<|im_end|>")
