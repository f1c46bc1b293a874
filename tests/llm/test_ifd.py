"""score-ifd with the real local model (SmolLM2-135M-Instruct), end to end once."""

from __future__ import annotations

import math

import pytest

from llm_rows import sft
from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.ops import registry
from workbench.ops.base import Context


@pytest.mark.slow
def test_an_answer_that_follows_its_instruction_scores_better():
    rows = [sft(0, "What is the capital of France? Answer in one word.", "Paris"),
            sft(1, "Write a short poem about the sea.", "Paris"),
            sft(2, "Count from one to five, separated by commas.", "one, two, three, four, five"),
            sft(3, "Name three colours of the rainbow.", "one, two, three, four, five"),
            make_record(id="row4", messages=[{"role": "user", "content": "hi"}])]
    op = registry.get("score-ifd")
    res = op.run(Dataset.from_records(rows), op.default_params(), Context())
    got = {(rid, n): v for rid, n, v in res.signals}
    for good, bad in (("row0", "row1"), ("row2", "row3")):  # the same answer, a matching vs an unrelated ask
        assert got[(good, "ifd.logprob")] > got[(bad, "ifd.logprob")]
        assert got[(good, "ifd.score")] < got[(bad, "ifd.score")]
    # IFD = PPL(a|q) / PPL(a): the two answers alone score the same, so the ratios follow the log-probs
    assert math.log(got[("row0", "ifd.score")] / got[("row1", "ifd.score")]) == pytest.approx(
        got[("row1", "ifd.logprob")] - got[("row0", "ifd.logprob")], abs=1e-3)
    assert "no answer" in res.errors["row4"]
