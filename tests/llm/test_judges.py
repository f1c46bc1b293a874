"""Judges over the loopback server: the tolerant verdict parser, structured output, custom
rubrics, errors listed per row, and pairwise judging in both orders (position bias)."""

from __future__ import annotations

import json

import pytest

from llm_rows import sft
from tests.support.loopback import LoopbackServer
from workbench.data.record import make_record
from workbench.ops.base import apply_result
from workbench.ops.generation.judge import RATING_SCHEMA, judge
from workbench.ops.generation.pairwise import combine, judge_pairwise
from workbench.ops.generation.verdicts import VerdictError, parse_preference, parse_rating


@pytest.mark.parametrize("reply,value", [
    ("Rationale: fine.\nRating: 4", 4.0),
    ("A lower rating would be unfair: the answer is right.\nRating: 4", 4.0),  # the word before the verdict
    ("Rating: [[5]]", 5.0),
    ("The answer deserves [[3]]", 3.0),
    ("Overall I give it 2/5 because it is vague.", 2.0),
    ('Sure! Here is my judgement:\n```json\n{"rationale": "clear", "rating": 5}\n```\nHope it helps.', 5.0),
    ('My verdict: {"rating": 3, "rationale": "ok"} -- thanks', 3.0),
    ("Rating: 2\nOn reflection the rubric says more.\nRating: 3", 3.0),  # the last well-formed line
])
def test_the_verdict_is_what_the_prompt_asked_for(reply, value):
    assert parse_rating(reply)[0] == value


@pytest.mark.parametrize("reply,why", [
    ("", "empty"), ("   ", "empty"), ("The response is helpful and I would rate it highly.", "no rating"),
    ("Rating: excellent", "not a number"), ('{"rating": "great"}', "not a number"), ("Rating: [[9]]", "outside 1-5"),
    ('{"rating": 0, "rationale": "x"}', "outside 1-5"),
    ('{"rationale": "The answer is correct and well expl', "no rating"),  # truncated JSON
    ("Rationale: The answer is mostly right but Rat", "no rating"),  # truncated text
])
def test_unusable_verdicts_are_errors(reply, why):
    with pytest.raises(VerdictError, match=why):
        parse_rating(reply)


def test_the_rationale_comes_with_the_rating():
    assert parse_rating("Rationale: concise and correct\nRating: 5") == (5.0, "concise and correct")
    assert parse_rating('{"rationale": "vague", "rating": 2}') == (2.0, "vague")


SCRIPT = {  # question -> the judge's reply; each is a row of one batch
    "question 0": '{"rationale": "clear", "rating": 4}',
    "question 1": 'Here you go: {"rationale": "fine", "rating": 5} That is all.',
    "question 2": "A lower rating than 5 fits, as a step is missing.\nRating: 4",
    "question 3": "Rationale: spot on\nRating: [[5]]",
    "question 4": "Rating: 11",
    "question 5": "",
    "question 6": '{"rationale": "The answer is',
    "question 7": "Rating: good",
}


def _scripted(messages):
    prompt = messages[-1]["content"]
    return next(v for k, v in SCRIPT.items() if f"\n{k}\n" in prompt)


def test_a_batch_of_scripted_replies_rates_the_good_and_lists_the_bad(make_client, ws):
    rows = [sft(i) for i in range(len(SCRIPT))]
    with LoopbackServer(_scripted) as srv:
        res = judge(rows, make_client(srv, retries=0), ws, aspects=["helpfulness"])
        sent = srv.requests[0]
    counts = ws.run(apply_result(ws, res))["counts"]
    assert counts["judged"] == 4 and counts["errors"] == 4 and "new_rows" not in counts  # rates rows, makes none
    assert ws.signal_values("judge.helpfulness") == {"row0": 4.0, "row1": 5.0, "row2": 4.0, "row3": 5.0}
    assert set(res.errors) == {"row4", "row5", "row6", "row7"}
    assert "outside 1-5" in res.errors["row4"] and "empty" in res.errors["row5"]
    assert "no rating" in res.errors["row6"] and "not a number" in res.errors["row7"]
    assert all("helpfulness: " in res.errors[r] for r in res.errors), res.errors
    # an OpenAI-compatible server gets the JSON schema, and the prompt asks for JSON
    assert sent["response_format"] == RATING_SCHEMA and '"rating"' in sent["messages"][-1]["content"]
    assert ws.signal_values("judge.rationale")["row3"] == {"helpfulness": "spot on"}


def test_structured_off_asks_for_a_rating_line(make_client, ws):
    with LoopbackServer(lambda m: "Rationale: ok\nRating: 3") as srv:
        res = judge([sft(0)], make_client(srv), ws, aspects=["overall"], structured="off")
        sent = srv.requests[0]
    assert "response_format" not in sent and "Rating: <a number" in sent["messages"][-1]["content"]
    assert res.signals[0] == ("row0", "judge.overall", 3.0)


def test_a_custom_rubric_from_a_file(tmp_path, ws):
    from workbench.data.dataset import Dataset
    from workbench.ops import registry
    from workbench.ops.base import Context, ParamError

    rubric = tmp_path / "math-rigor.md"
    rubric.write_text("1 = no justification; 5 = every step justified.\n")
    op = registry.get("judge")
    with LoopbackServer(lambda m: "Rating: 2" if "every step justified" in m[-1]["content"] else "Rating: 5") as srv:
        params = op.params_from_dict({"model": "openai/loopback", "api_base": srv.api_base, "rubric": str(rubric),
                                      "retries": 0})
        res = op.run(Dataset.from_records([sft(0)]), params, Context(ws=ws))
    assert [(n, v) for _, n, v in res.signals if n != "judge.rationale"] == [("judge.math_rigor", 2.0),
                                                                            ("judge.score", 2.0)]
    with pytest.raises(ParamError, match="rubric: cannot read"):
        op.params_from_dict({"rubric": str(tmp_path / "missing.txt")})


def pair(i: int, good: str, bad: str):
    return make_record(id=f"pair{i}", kind="preference", messages=[{"role": "user", "content": f"task {i}"}],
                       chosen=[{"role": "assistant", "content": good}],
                       rejected=[{"role": "assistant", "content": bad}])


def _response_a(prompt: str) -> str:
    return prompt.split("[Response A]\n", 1)[1].split("\n\n[Response B]", 1)[0]


def test_pairwise_with_a_fair_judge_agrees_in_both_orders(make_client, ws):
    def fair(messages):  # prefers the answer marked GOOD wherever it stands; a tie on task 2
        p = messages[-1]["content"]
        if "\ntask 2\n" in p:
            return "Both are equally fine. [[C]]"
        return "A is better. [[A]]" if "GOOD" in _response_a(p) else json.dumps({"rationale": "x", "winner": "B"})

    rows = [pair(0, "GOOD one", "bad one"), pair(1, "bad two", "GOOD two"), pair(2, "one", "other"), sft(9)]
    with LoopbackServer(fair) as srv:
        res = judge_pairwise(rows, make_client(srv), ws)
    win = {rid: v for rid, n, v in res.signals if n == "pairwise.winner"}
    assert win == {"pair0": "chosen", "pair1": "rejected", "pair2": "tie"}
    assert "not a preference pair" in res.errors["row9"]
    assert res.report["first_position_rate"] == 0.5 and res.report["position_bias"] is False


def test_pairwise_detects_a_judge_that_always_prefers_position_a(make_client, ws):
    rows = [pair(i, f"GOOD {i}", f"bad {i}") for i in range(4)]
    with LoopbackServer(lambda m: "Response A is better.\n[[A]]") as srv:
        res = judge_pairwise(rows, make_client(srv), ws, structured="off")
        assert srv.total == 8  # every pair in both orders
    win = {rid: v for rid, n, v in res.signals if n == "pairwise.winner"}
    assert set(win.values()) == {"inconsistent"}
    assert res.report["first_position_rate"] == 1.0 and res.report["position_bias"] is True
    assert res.report["inconsistent_rows"] == [f"pair{i}" for i in range(4)]


def test_preference_verdicts():
    assert parse_preference("B is clearer.\n[[B]]")[0] == "B"
    assert parse_preference('{"winner": "tie", "rationale": "same"}') == ("tie", "same")
    assert parse_preference("Verdict: A")[0] == "A"
    with pytest.raises(VerdictError, match="no verdict"):
        parse_preference("Both have merits.")
    with pytest.raises(VerdictError, match="not A, B or tie"):
        parse_preference("[[D]]")
    assert combine("A", "B") == "chosen" and combine("B", "A") == "rejected"
    assert combine("A", "A") == "inconsistent" and combine("tie", "tie") == "tie"


def test_probabilities_are_the_local_models_only(make_client, ws):
    with LoopbackServer(lambda m: "Rating: 4") as srv, pytest.raises(ValueError, match="local model only"):
        judge([make_record(id="r", messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])],
              make_client(srv), ws, method="probabilities")


@pytest.mark.slow
def test_the_local_model_judges_by_token_probabilities(tmp_path, capsys):
    """The offline default: SmolLM2 rarely writes a 'Rating: N' line, so its rating is the
    expected value over its probabilities of the tokens 1..5 after 'Rating: '."""
    from workbench.cli import main
    from workbench.store.workspace import Workspace

    src = tmp_path / "two.jsonl"
    src.write_text(json.dumps({"instruction": "What is 2 + 2?", "output": "2 + 2 = 4."}) + "\n"
                   + json.dumps({"instruction": "What is 2 + 2?", "output": "The capital of France is Paris."}) + "\n")
    wsfile = tmp_path / "ws.sqlite"
    assert main(["judge", str(src), "--workspace", str(wsfile), "--aspects", "helpfulness",
                 "--concurrency", "1"]) == 0
    assert "judged 2 of 2 rows with local/smollm2" in capsys.readouterr().out
    with Workspace.open(wsfile) as ws:
        score, why = ws.signal_values("judge.score"), ws.signal_values("judge.rationale")
    assert len(score) == 2 and all(1 <= v <= 5 for v in score.values())
    for rid in score:
        probs = [float(p) for p in why[rid]["helpfulness"].removeprefix("p(1..5) = ").split()]
        assert len(probs) == 5 and sum(probs) == pytest.approx(1, abs=0.02)
    assert len(set(score.values())) == 2  # a continuous rating tells the two apart
