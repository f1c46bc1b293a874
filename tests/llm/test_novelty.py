"""Novelty of generated instructions: ROUGE-L near-copies, then embedding paraphrases."""

from __future__ import annotations

import json

import pytest

from workbench.ops.generation.novelty import Novelty, NoveltyParams, reference_instructions
from workbench.ops.base import ParamError


def test_rouge_near_copies_of_the_dataset_and_of_kept_ones(tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"instruction": "Write a poem about the sea.", "input": "", "output": "x"}) + "\n")
    ref = reference_instructions(str(data))
    assert ref == ["Write a poem about the sea."]
    keep, dropped = Novelty(ref).filter([
        ("a", "Write a short poem about the sea."),  # copies the dataset's row
        ("b", "List three uses of baking soda."),
        ("c", "List three uses for baking soda!"),  # copies b, kept just before
        ("d", "Explain how tides work."),
    ])
    assert keep == ["b", "d"]
    assert dropped["a"].startswith("near-copy (ROUGE-L 0.92 >= 0.7)") and dropped["c"].startswith("near-copy (ROUGE-L")
    with pytest.raises(ParamError, match="max_cosine"):
        NoveltyParams.from_dict({"max_cosine": 2.0})


@pytest.mark.slow
def test_embedding_similarity_catches_a_paraphrase_rouge_misses():
    """The bundled MiniLM: these two share few words (ROUGE-L 0.25) but mean the same."""
    check = Novelty(["What is the capital city of France?"], cosine=0.7)
    keep, dropped = check.filter([("a", "Which city serves as France's seat of government?"),
                                  ("b", "How do volcanoes form?")])
    assert keep == ["b"] and dropped["a"].startswith("near-copy (embedding cosine 0.7")
    assert Novelty(["What is the capital city of France?"]).filter(
        [("a", "Which city serves as France's seat of government?")])[0] == ["a"]
