"""best-of-n-pairs: preference pairs from N answers per prompt by any score; the operation, its
command (-o OUT, the Gen pane) and its recipe step replayed on another workspace."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.ops import registry
from workbench.ops.base import Context, ParamError
from workbench.store.workspace import Workspace

ANSWERS = {  # prompt -> [(row id, score)]; None: no score
    "p1": [("a0", 1.0), ("a1", 3.0), ("a2", 5.0), ("a3", 2.0)],
    "p2": [("b0", 3.0), ("b1", 3.0)],  # a tie: no preference
    "p3": [("c0", 4.0)],  # one answer
    "p4": [("d0", 4.0), ("d1", 3.5), ("d2", None)],  # 0.5 apart
}


def _rows():
    out = []
    for prompt, answers in ANSWERS.items():
        for rid, _ in answers:
            out.append(make_record(id=rid, system="Be brief." if prompt == "p4" else None,
                                   messages=[{"role": "user", "content": f"question {prompt}"},
                                             {"role": "assistant", "content": f"answer {rid}"}]))
    # the same words under another system prompt is another prompt
    out.append(make_record(id="d9", messages=[{"role": "user", "content": "question p4"},
                                              {"role": "assistant", "content": "answer d9"}]))
    out.append(make_record(id="e0", messages=[{"role": "user", "content": "unanswered"}]))
    return out


def _score(ws):
    ws.save_run("judge", {}, signals=[(rid, "judge.score", s) for a in ANSWERS.values() for rid, s in a
                                      if s is not None] + [("d9", "judge.score", 1.0), ("e0", "judge.score", 5.0)])


def _run(ws, **params):
    op = registry.get("best-of-n-pairs")
    return op.run(Dataset.from_records(_rows()), op.params_from_dict(params), Context(ws=ws))


def test_best_against_worst_with_a_margin(ws):
    _score(ws)
    res = _run(ws)
    assert [r["id"] for r in res.rows] == ["a2>a0", "d0>d1"]
    pair = res.rows[0]
    assert pair["kind"] == "preference" and pair["messages"] == [{"role": "user", "content": "question p1"}]
    assert pair["chosen"] == [{"role": "assistant", "content": "answer a2"}]
    assert pair["rejected"] == [{"role": "assistant", "content": "answer a0"}]
    assert pair["meta"]["provenance"] == {"operation": "best-of-n-pairs", "model": "score:judge.score",
                                          "parent": "a2", "chosen": "a2", "rejected": "a0", "chosen_score": 5.0,
                                          "rejected_score": 1.0, "pick": "worst", "margin": 0.0}
    assert res.rows[1]["system"] == "Be brief."
    assert res.dropped == {"b0": "no answer at least 0 below the best by judge.score: b0 3, b1 3"}
    assert res.report == {"op": "best-of-n-pairs", "rows": 12, "prompts": 5, "pairs": 2, "single_answer_prompts": 2,
                          "no_margin": 1, "unscored": 1, "no_answer": 1}
    # a margin of 1: p4's answers are only 0.5 apart
    res = _run(ws, margin=1.0)
    assert [r["id"] for r in res.rows] == ["a2>a0"] and "d0" in res.dropped


def test_a_random_lower_answer_is_seeded_and_keeps_the_margin(ws):
    _score(ws)
    picked = {seed: _run(ws, pick="random", margin=2.5, seed=seed).rows[0]["meta"]["provenance"]["rejected"]
              for seed in range(12)}
    assert set(picked.values()) == {"a0", "a3"}  # a1 (3.0) is within 2.5 of the best (5.0)
    assert all(_run(ws, pick="random", margin=2.5, seed=s).rows[0]["meta"]["provenance"]["rejected"] == p
               for s, p in picked.items())
    with pytest.raises(ParamError, match="margin must be 0 or more"):
        registry.get("best-of-n-pairs").params_from_dict({"margin": -1})
    with pytest.raises(ValueError, match="no signal 'reward.score'"):
        _run(ws, score="reward.score")


def test_command_writes_pairs_and_a_recipe_replays_the_step(tmp_path, capsys):
    rows = [{"instruction": f"Explain topic {k}.", "input": "", "output": " ".join(["word"] * n)}
            for k in range(3) for n in (5, 40, 12)]
    src = tmp_path / "answers.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ws = str(tmp_path / "ws.sqlite")
    assert main(["score-heuristics", str(src), "--workspace", ws]) == 0
    out = tmp_path / "pairs.jsonl"
    assert main(["best-of-n-pairs", str(src), "--workspace", ws, "--score", "heuristic.length_ratio",
                 "-o", str(out), "--to", "trl"]) == 0
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(pairs) == 3
    assert all(len(p["chosen"][-1]["content"].split()) == 40 and len(p["rejected"][-1]["content"].split()) == 5
               for p in pairs)
    assert "wrote 3 rows" in capsys.readouterr().err
    with Workspace.open(ws) as w:
        assert len(w.signal_values("generated")) == 3  # in the Gen pane for review
    recipe = tmp_path / "r.yaml"
    assert main(["recipe", str(src), "--workspace", ws, "-o", str(recipe)]) == 0
    assert [ln for ln in recipe.read_text().splitlines() if ln.startswith("- op:")] == [
        "- op: score-heuristics", "- op: best-of-n-pairs"]
    ws2 = str(tmp_path / "ws2.sqlite")
    assert main(["run", str(recipe), "--input", str(src), "--workspace", ws2, "-o", str(tmp_path / "kept.jsonl")]) == 0
    with Workspace.open(ws2) as w:
        made = w.signal_values("generated")
    assert sorted(v["record"]["id"] for v in made.values()) == ["answers.jsonl:1>answers.jsonl:0",
                                                                "answers.jsonl:4>answers.jsonl:3",
                                                                "answers.jsonl:7>answers.jsonl:6"]
