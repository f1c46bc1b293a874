"""select: greedy by score with DEITA's representation filter, on planted near-duplicates."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.ops import registry
from workbench.ops.base import Context, ParamError, Result, apply_result
from workbench.ops.select import greedy_select


def test_greedy_selection_skips_close_rows_and_stops_at_the_budget():
    emb = np.array([[1, 0, 0], [0.99, 0.1, 0], [0, 1, 0], [0, 0, 1], [0, 0.1, 0.99]], dtype=np.float32)
    ids = ["a", "a2", "b", "c", "c2"]
    selected, rejected = greedy_select(ids, [5, 4, 3, 2, 6], emb, budget=3, threshold=0.9, score_name="s")
    assert selected == {"c2": 1, "a": 2, "b": 3}
    assert rejected["a2"].startswith("not selected: too close to row a (cosine 0.99")
    assert rejected["c"] == "not selected: over budget (rank 5 by s, budget 3)"
    _, rejected = greedy_select(ids, [5, 4, 3, 2, 6], emb, budget=9, threshold=0.9, score_name="s")
    assert rejected["c"].startswith("not selected: too close to row c2") and len(rejected) == 2
    # no diversity filter: the top two by score
    selected, _ = greedy_select(ids, [5, 4, 3, None, 6], emb, budget=2, threshold=1.0, score_name="s")
    assert selected == {"c2": 1, "a": 2}
    _, rejected = greedy_select(ids, [5, 4, 3, None, 6], emb, budget=9, threshold=1.0, score_name="s")
    assert rejected == {"c": "not selected: no s"}


PLANTED = [  # (prompt, score); rows 2k and 2k+1 ask the same thing in other words
    ("How do I reverse a list in Python?", 3.0), ("What is the way to reverse a Python list?", 4.0),
    ("Give me a recipe for banana bread.", 5.0), ("Share a banana bread recipe, please.", 2.0),
    ("Explain the causes of the French Revolution.", 1.0), ("What caused the French Revolution?", 4.5),
    ("Write a haiku about autumn leaves.", 2.5), ("How many moons does Jupiter have?", 3.5),
]


@pytest.mark.slow
def test_select_keeps_one_of_each_planted_near_duplicate(ws):
    rows = [make_record(id=f"r{i}", messages=[{"role": "user", "content": p},
                                              {"role": "assistant", "content": "Sure."}])
            for i, (p, _) in enumerate(PLANTED)]
    ws.save_run("judge", {}, signals=[(f"r{i}", "judge.score", s) for i, (_, s) in enumerate(PLANTED)])
    op = registry.get("select")
    params = op.params_from_dict({"budget": 10, "by": "score:judge.score", "diversity": 0.75, "view": "prompt"})
    res = op.run(Dataset.from_records(rows), params, Context(ws=ws))
    kept = {rid for rid, name, _ in res.signals if name == "select.rank"}
    assert kept == {"r1", "r2", "r5", "r6", "r7"}  # the better-scored of each pair, and both singles
    assert res.rejects["r0"].startswith("not selected: too close to row r1")
    assert res.rejects["r3"].startswith("not selected: too close to row r2")
    assert res.rejects["r4"].startswith("not selected: too close to row r5")
    apply_result(ws, res)
    assert ws.signal_values("select.rank")["r2"] == 1
    # a budget below the distinct rows: the rest are over budget
    res = op.run(Dataset.from_records(rows), op.params_from_dict({**params.to_dict(), "budget": 2}), Context(ws=ws))
    assert sorted(rid for rid, n, _ in res.signals) == ["r2", "r5"]
    assert "over budget" in res.rejects["r7"]


def test_select_needs_its_scores(ws):
    op = registry.get("select")
    ds = Dataset.from_records([make_record(id="r0", messages=[{"role": "user", "content": "q"}])])
    with pytest.raises(ValueError, match="needs the signals deita.complexity and deita.quality"):
        op.run(ds, op.default_params(), Context(ws=ws))
    with pytest.raises(ValueError, match="no signal 'x'"):
        op.run(ds, op.params_from_dict({"by": "score:x"}), Context(ws=ws))
    with pytest.raises(ParamError, match="by must be"):
        op.params_from_dict({"by": "judge.score"})
