"""Generation operations over the loopback server: parsing, filters, signals, output rows."""

from __future__ import annotations

import pytest

from llm_rows import sft
from tests.support.loopback import LoopbackServer
from workbench.ops.base import apply_result
from workbench.ops.generation.best_of_n import best_of_n
from workbench.ops.generation.bsm import branch_solve_merge, parse_branches
from workbench.ops.generation.common import GenerationError, strip_label
from workbench.ops.generation.evol import eliminate, evolve
from workbench.ops.generation.judge import judge, parse_rating
from workbench.ops.generation.persona import load_personas, persona_generate
from workbench.ops.generation.self_instruct import rule_filter, self_instruct


@pytest.mark.parametrize("reply,value", [
    ("Rating: 4\nRationale: good", 4.0), ("**Rating**: 5/5\nRationale: great", 5.0),
    ("rating = [2]. Rationale: weak", 2.0), ("Rationale first.\nRating: 3", 3.0), ("Rating: 4.5", 4.5),
])
def test_parse_rating_accepts(reply, value):
    assert parse_rating(reply)[0] == value


@pytest.mark.parametrize("reply,why", [
    ("I think it is good.", "no rating"), ("Rating: good", "not a number"), ("Rating: 0", "outside 1-5"),
    ("Rating: 7\nRationale: x", "outside 1-5"), ("", "empty"),
])
def test_parse_rating_rejects(reply, why):
    with pytest.raises(GenerationError, match=why):
        parse_rating(reply)


def test_judge_writes_signals_and_errors_bad_rows(make_client, ws):
    def reply(messages):
        p = messages[-1]["content"]
        if "question 1\n" in p:
            return "Rating: excellent"  # non-numeric
        if "question 2\n" in p:
            return "Rating: 9"  # out of range
        if "question 3\n" in p:
            return "No idea."  # missing
        return "Rating: 4\nRationale: clear" if "helpfulness" in p else "Rating: 2\nRationale: vague"

    rows = [sft(i) for i in range(6)]
    with LoopbackServer(reply) as srv:
        res = judge(rows, make_client(srv), ws, aspects=["helpfulness", "honesty"])
    apply_result(ws, res)
    assert set(res.errors) == {"row1", "row2", "row3"}
    assert "not a number" in res.errors["row1"] and "outside 1-5" in res.errors["row2"]
    assert "no rating" in res.errors["row3"]
    assert ws.signal_values("judge.helpfulness") == {"row0": 4.0, "row4": 4.0, "row5": 4.0}
    assert ws.signal_values("judge.score")["row0"] == 3.0
    assert ws.signal_values("judge.rationale")["row4"] == {"helpfulness": "clear", "honesty": "vague"}


def test_a_reply_the_judge_cannot_use_is_not_cached(make_client, ws):
    replies = iter(["I think it is fine.", "Rating: 5\nRationale: right"])
    rows = [sft(0)]
    with LoopbackServer(lambda m: next(replies)) as srv:
        first = judge(rows, make_client(srv), ws, aspects=["helpfulness"])
        assert "no rating" in first.errors["row0"]
        # run again (a new job: the failed row is retried) on the same server: it is asked again
        again = judge(rows, make_client(srv), ws, aspects=["helpfulness"])
        apply_result(ws, again)
        assert srv.total == 2 and not again.errors
        assert ws.signal_values("judge.helpfulness") == {"row0": 5.0}
        # and a usable reply is served from the cache from then on
        judge(rows, make_client(srv), ws, aspects=["helpfulness"])
        assert srv.total == 2


def test_self_instruct_filters_and_answers(make_client, ws):
    replies = iter(["Task 9: Describe the water cycle to a ten-year-old in three sentences.",
                    "Describe the water cycle to a ten year old in three sentences!",  # ROUGE-L 1.0
                    "Look at the attached image and describe it.",  # needs more than text
                    "Ok",  # too short
                    "List three uses of baking soda around the house.\nTask 10: something else"] * 10)

    def reply(messages):
        p = messages[-1]["content"]
        return next(replies) if p.startswith("Here are some example tasks") else f"Answer to {p[:20]}"

    seeds = [sft(i, prompt=p) for i, p in enumerate(
        ["Write a limerick about a cat.", "Convert 5 miles to kilometres.", "Explain what a prime number is."])]
    with LoopbackServer(reply) as srv:
        res = self_instruct(seeds, make_client(srv, concurrency=1), ws, n=2, k=2, attempts_per_task=3,
                            concurrency=1)
    tasks = [r["messages"][0]["content"] for r in res.rows]
    assert tasks == ["Describe the water cycle to a ten-year-old in three sentences.",
                     "List three uses of baking soda around the house."]
    assert all(r["messages"][1]["content"].startswith("Answer to") for r in res.rows)
    reasons = " | ".join(res.dropped.values())
    assert "too similar" in reasons and "needs more than text" in reasons and "too short" in reasons
    assert res.rows[0]["meta"]["provenance"]["operation"] == "self-instruct"
    assert rule_filter("Write " + "word " * 200).startswith("too long")


def test_evol_eliminates_failed_rounds(make_client, ws):
    def reply(messages):
        p = messages[-1]["content"]
        if "question 0" in p and p.startswith("You"):
            return "Rewritten Prompt: question 0, but answer in exactly three bullet points"
        if "question 1" in p and p.startswith("You"):
            return "I'm sorry, but I can't help with that."
        return f"answer: {p[:30]}"

    with LoopbackServer(reply) as srv:
        res = evolve([sft(0), sft(1)], make_client(srv), ws, rounds=2, mutations=["constraints"])
    assert set(res.errors) == {"row1"} and "refusal" in res.errors["row1"]
    row = res.rows[0]
    assert row["messages"][0]["content"] == "question 0, but answer in exactly three bullet points"
    assert row["messages"][1]["content"].startswith("answer: question 0, but")
    history = row["meta"]["provenance"]["rounds"]
    assert history[0]["eliminated"] is None and history[1]["eliminated"] == "unchanged"


def test_eliminate_rules():
    assert eliminate("Sort a list of numbers", "sort a list of numbers.") == "unchanged"
    assert eliminate("Sort a list", "Too short").startswith("too short")
    assert eliminate("Sort a list", "#Rewritten Prompt#: sort the list in place descending") == \
        "copies the evolution prompt"
    assert eliminate("Sort a list", "As an AI language model I cannot do this") == "refusal"
    assert eliminate("Sort a list", "Sort a list of tuples by their second element, stably") is None
    assert strip_label('New prompt: "Do X now please"') == "Do X now please"


def test_bsm_and_persona_and_best_of_n(make_client, ws, tmp_path):
    counter = {"n": 0}

    def reply(messages):
        p = messages[-1]["content"]
        if p.startswith("List 2"):
            return "1. the history part\n2. the science part\n3. ignored extra"
        if p.startswith("Rate the response"):
            return "Rating: 5" if "GOOD" in p else "Rating: 2"
        if p.startswith("You are this person"):
            return "As a sailor, how do tides work near harbours?"
        counter["n"] += 1
        return "GOOD answer with details" if counter["n"] % 2 else "bad answer with details"

    personas = tmp_path / "p.jsonl"
    personas.write_text('{"persona": "A sailor"}\n\n{"description": "A baker"}\n')
    assert load_personas(personas) == ["A sailor", "A baker"]
    with LoopbackServer(reply) as srv:
        client = make_client(srv)
        b = branch_solve_merge([sft(0)], client, ws, k=2)
        p = persona_generate([sft(1)], ["A sailor"], client, ws)
        bo = best_of_n([sft(2)], client, ws, n=2)
    assert not b.errors and not p.errors, (b.errors, p.errors)
    assert b.rows[0]["meta"]["provenance"]["branches"] == ["the history part", "the science part"]
    assert p.rows[0]["messages"][0]["content"] == "As a sailor, how do tides work near harbours?"
    assert p.rows[0]["meta"]["provenance"]["persona"] == "A sailor"
    assert not bo.errors, bo.errors
    pair = bo.rows[0]
    assert pair["kind"] == "preference" and pair["messages"] == [{"role": "user", "content": "question 2"}]
    assert pair["chosen"][0]["content"].startswith("GOOD") and pair["rejected"][0]["content"].startswith("bad")
    assert parse_branches("- one thing\n* two things\nnoise", 5) == ["one thing", "two things"]


def test_best_of_n_uses_the_verifier_when_the_row_has_a_reference(make_client, ws):
    answers = iter(["The total is 41.", "So the answer is 42."])
    with LoopbackServer(lambda m: next(answers)) as srv:
        res = best_of_n([sft(0, answer="x", reference="#### 42")], make_client(srv), ws, n=2)
    pair = res.rows[0]
    assert pair["chosen"][0]["content"] == "So the answer is 42." and pair["meta"]["provenance"]["scorer"] == "verifier"


def test_run_operation_by_name(ws):
    from workbench.data.dataset import Dataset
    from workbench.ops import registry
    from workbench.ops.base import Context

    op = registry.get("generate-cot")
    with LoopbackServer(lambda m: "Step one. Step two. Final answer: four.") as srv:
        params = op.params_from_dict({"model": "openai/loopback", "api_base": srv.api_base, "retries": 0,
                                      "concurrency": 1})
        res = op.run(Dataset.from_records([sft(0)]), params, Context(ws=ws))
        with pytest.raises(ValueError, match="unknown operation"):
            registry.get("nope")
    assert res.rows[0]["messages"][-1]["content"] == "Step one. Step two. Final answer: four."
    assert res.params == params.to_dict() and res.rewrites[0][0] == "row0"
