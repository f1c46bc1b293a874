"""DEITA complexity and quality scores over the loopback server (scripted judge replies, bad ones
included), and `select --by deita` on planted near-duplicates."""

from __future__ import annotations

import json

import pytest

from llm_rows import sft
from tests.support.loopback import LoopbackServer
from workbench.cli import main
from workbench.ops.base import apply_result
from workbench.ops.generation.deita import deita_scores
from workbench.ops.generation.judge import rating_schema

COMPLEXITY = {  # question -> the judge's reply on complexity
    "question 0": "Rationale: one plain ask.\nRating: 2",
    "question 1": '{"rationale": "several constraints", "rating": 5}',
    "question 2": "Harder than 3, the rating is not low.\nRating: [[4]]",
    "question 3": "Rating: 6",
    "question 4": "Rating: 7",  # out of the 1-6 range
    "question 5": "",
    "question 6": "Rating: 3",
}
QUALITY = {
    "question 0": "Rationale: complete.\nRating: 6",
    "question 1": "Rating: 3/6",
    "question 2": "Rating: 2",
    "question 3": "It is fine, I think.",  # no rating at all
    "question 4": "Rating: 5",
    "question 5": "Rating: 5",
    "question 6": '{"rationale": "The answer is',  # truncated
}


def _judge(messages):
    p = messages[-1]["content"]
    table = COMPLEXITY if p.startswith("Rate how complex") else QUALITY
    return next(v for k, v in table.items() if f"\n{k}\n" in p)


def test_scripted_replies_score_the_good_rows_and_list_the_bad(make_client, ws):
    rows = [sft(i) for i in range(len(COMPLEXITY))]
    rows.append(sft(7))
    rows[7]["messages"] = rows[7]["messages"][:1]  # no answer to rate the quality of
    with LoopbackServer(_judge) as srv:
        res = deita_scores(rows, make_client(srv, retries=0), ws)
        sent = srv.requests[0]
    apply_result(ws, res)
    assert ws.signal_values("deita.complexity") == {"row0": 2.0, "row1": 5.0, "row2": 4.0}
    assert ws.signal_values("deita.quality") == {"row0": 6.0, "row1": 3.0, "row2": 2.0}
    assert ws.signal_values("deita.score") == {"row0": 12.0, "row1": 15.0, "row2": 8.0}
    assert ws.signal_values("deita.rationale")["row1"] == {"complexity": "several constraints", "quality": ""}
    assert set(res.errors) == {"row3", "row4", "row5", "row6", "row7"}
    assert "quality: no rating in the judge's reply" in res.errors["row3"]
    assert "complexity: rating 7 is outside 1-6" in res.errors["row4"]
    assert "complexity: the judge's reply is empty" in res.errors["row5"]
    assert "quality: no rating" in res.errors["row6"]
    assert res.errors["row7"] == "row has no answer after its last user turn"
    # structured output on an OpenAI-compatible server: the 1-6 schema
    assert sent["response_format"] == rating_schema(6)
    assert rating_schema(6)["json_schema"]["schema"]["properties"]["rating"]["enum"] == [1, 2, 3, 4, 5, 6]


def test_complexity_alone_needs_no_answer(make_client, ws):
    row = sft(0)
    row["messages"] = row["messages"][:1]
    with LoopbackServer(_judge) as srv:
        res = deita_scores([row], make_client(srv), ws, scores=["complexity"], structured="off")
        sent = srv.requests
    assert [(n, v) for _, n, v in res.signals] == [("deita.complexity", 2.0),
                                                   ("deita.rationale", {"complexity": "one plain ask."})]
    assert len(sent) == 1 and "response_format" not in sent[0]
    assert "Rating: <a number from 1 to 6>" in sent[0]["messages"][-1]["content"]


PLANTED = [  # (prompt, complexity, quality); rows 2k and 2k+1 ask the same thing in other words
    ("How do I reverse a list in Python?", 3, 2), ("What is the way to reverse a Python list?", 4, 3),
    ("Give me a recipe for banana bread.", 5, 5), ("Share a banana bread recipe, please.", 2, 4),
    ("Explain the causes of the French Revolution.", 1, 2), ("What caused the French Revolution?", 4, 4),
    ("Write a haiku about autumn leaves.", 2, 3), ("How many moons does Jupiter have?", 3, 4),
]


@pytest.mark.slow
def test_select_by_deita_keeps_one_of_each_planted_near_duplicate(tmp_path, capsys):
    src = tmp_path / "planted.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{i}", "instruction": p, "output": "Sure."}) + "\n"
                           for i, (p, _, _) in enumerate(PLANTED)))
    scores = {p: (c, q) for p, c, q in PLANTED}

    def judge(messages):
        text = messages[-1]["content"]
        prompt = next(p for p in scores if f"\n{p}\n" in text)
        return f"Rating: {scores[prompt][0 if text.startswith('Rate how complex') else 1]}"

    wsfile = str(tmp_path / "ws.sqlite")
    with LoopbackServer(judge) as srv:
        assert main(["score-deita", str(src), "--model", "openai/loopback", "--api-base", srv.api_base,
                     "--workspace", wsfile]) == 0
    out = capsys.readouterr().out
    assert "scored 8 of 8 rows" in out and "deita.score       mean 10.88  min 2  max 25" in out
    assert main(["select", str(src), "--by", "deita", "--budget", "10", "--diversity", "0.75", "--view", "prompt",
                 "--workspace", wsfile]) == 0
    from workbench.store.workspace import Workspace

    with Workspace.open(wsfile) as ws:
        ranks = ws.signal_values("select.rank")
        reasons = {rid: ws.decision(rid)["note"] for rid, (status, op) in ws.reasons().items() if op == "select"}
    # the better product of each pair (12 > 6, 25 > 8, 16 > 2) and both singles
    assert sorted(ranks, key=ranks.get) == ["r2", "r5", "r1", "r7", "r6"]
    assert reasons["r0"].startswith("not selected: too close to row r1")
    assert reasons["r3"].startswith("not selected: too close to row r2")
    assert reasons["r4"].startswith("not selected: too close to row r5")
    assert set(reasons) == {"r0", "r3", "r4"}


def test_token_probabilities_are_the_local_models_only(make_client, ws):
    with LoopbackServer(_judge) as srv, pytest.raises(ValueError, match="local model only"):
        deita_scores([sft(0)], make_client(srv), ws, method="probabilities")


@pytest.mark.slow
def test_the_local_model_scores_by_token_probabilities(tmp_path, capsys):
    """The offline default end to end: expected scores from SmolLM2's probabilities of 1..6."""
    src = tmp_path / "two.jsonl"
    src.write_text(json.dumps({"instruction": "Name a colour.", "output": "Blue."}) + "\n"
                   + json.dumps({"instruction": "Prove that there are infinitely many primes, then explain why the "
                                                "proof fails for the even numbers, in under 200 words.",
                                 "output": "Suppose finitely many primes p1..pn; p1*...*pn + 1 has a prime factor "
                                           "outside the list, a contradiction."}) + "\n")
    wsfile = tmp_path / "ws.sqlite"
    assert main(["score-deita", str(src), "--workspace", str(wsfile), "--concurrency", "1"]) == 0
    assert "scored 2 of 2 rows with local/smollm2" in capsys.readouterr().out
    from workbench.store.workspace import Workspace

    with Workspace.open(wsfile) as ws:
        c, q, s = (ws.signal_values(f"deita.{n}") for n in ("complexity", "quality", "score"))
        why = ws.signal_values("deita.rationale")
    for rid in c:
        assert 1 <= c[rid] <= 6 and 1 <= q[rid] <= 6 and s[rid] == pytest.approx(c[rid] * q[rid], abs=1e-4)
        probs = [float(p) for p in why[rid]["complexity"].removeprefix("p(1..6) = ").split()]
        assert len(probs) == 6 and sum(probs) == pytest.approx(1, abs=0.02)
    assert len(set(c.values())) == 2  # a continuous score tells the two apart
