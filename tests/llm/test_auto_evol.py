"""`generate auto-evol`: the evolution method evolved over rounds, scored on held-out rows
against the fixed Evol-Instruct prompts; scripted replies, including a rewrite without a method."""

from __future__ import annotations

import json
import random

import pytest

from llm_rows import sft
from tests.support.loopback import LoopbackServer
from workbench.cli import main
from workbench.ops.generation.auto_evol import INITIAL_METHOD, auto_evol, parse_check, parse_final, parse_method
from workbench.ops.generation.common import GenerationError

# the rows are split as auto_evol splits them (seed 0): 4 held out, then training batches of 4;
# the improved method fails on one row of the second batch, so round 2 has a failure to fix
ORDER = list(range(12))
random.Random(0).shuffle(ORDER)
FAILS = ORDER[8]
IMPROVED = "IMPROVED: add exactly one constraint that keeps the request answerable, and never repeat it unchanged."


def reply(messages):
    p = messages[-1]["content"]
    if p.startswith("You improve a method"):
        if "IMPROVED" in p:  # the second round's rewrite: no <method> block (an error of that round)
            return "Sure! A better method would be to be more careful."
        return f"Here it is.\n<method>\n{IMPROVED}\n</method>"
    if p.startswith("An instruction was rewritten"):
        if "contradict" in p.split("Rewritten:", 1)[1].split("Reply in exactly")[0]:
            return "Verdict: FAILED\nCategory: contradicting\nReason: asks for both one word and three pages"
        return "Verdict: OK\nCategory: none\nReason: harder and answerable"
    if p.startswith(INITIAL_METHOD[:40]) or p.startswith("IMPROVED"):
        task = p.rsplit("Instruction:\n", 1)[1]
        i = int(task.split()[-1])
        if p.startswith("IMPROVED"):
            # distinct words per row: the evolutions are not near-copies of each other
            steps = " ".join(f"s{i}x{j}" for j in range(4))
            extra = " answered in one word and in three pages, which contradict" if i == FAILS else f" with steps {steps}"
            return f"Plan: add a constraint.\nFinal instruction: {task}{extra}"
        # the initial method leaves even rows unchanged
        return f"Final instruction: {task}" if i % 2 == 0 else f"Final instruction: {task} with a worked example"
    if p.startswith("You rewrite prompts") or p.startswith("You write new prompts"):  # fixed Evol-Instruct
        task = p.rsplit("Prompt:\n", 1)[1]
        return "I'm sorry, but I can't help with that." if int(task.split()[-1]) % 2 == 0 else f"{task} for a child"
    return f"answer to: {p[:40]}"


def test_parsers():
    assert parse_final("Step 1: x\nFinal instruction: Sort the list.\n\nNote: done") == "Sort the list."
    assert parse_final("no label here") is None
    assert parse_method("<method>one two three four five six seven eight</method>").startswith("one")
    with pytest.raises(GenerationError, match="no <method>"):
        parse_method("Just be careful.")
    with pytest.raises(GenerationError, match="too short"):
        parse_method("<method>be careful</method>")
    assert parse_check("Verdict: FAILED\nCategory: refused\nReason: it says sorry") == ("refused", "it says sorry")
    assert parse_check("Verdict: OK") == (None, "")
    with pytest.raises(GenerationError, match="no 'Verdict:'"):
        parse_check("looks fine")


def test_auto_evol_keeps_the_method_that_fails_least(make_client, ws):
    rows = [sft(i) for i in range(12)]
    with LoopbackServer(reply) as srv:
        res = auto_evol(rows, make_client(srv), ws, rounds=2, batch=4, heldout=4)
    rep = res.report
    held = [int(r.removeprefix("row")) for r in rep["heldout"]]
    assert len(held) == 4 and any(i % 2 == 0 for i in held)  # the split makes the comparison meaningful
    evens = sum(1 for i in held if i % 2 == 0) / 4
    assert rep["methods"] == [INITIAL_METHOD, IMPROVED]
    assert held == ORDER[:4] and FAILS not in held
    assert rep["method_failure_rates"] == [evens, 0.0]
    assert rep["method_index"] == 1 and rep["method"] == IMPROVED and rep["failure_rate"] == 0.0
    assert rep["evol_instruct_failure_rate"] == evens  # the fixed prompts' refusals on the same rows
    r1, r2 = rep["rounds"]
    assert r1["error"] is None and r1["method"] == 1 and r1["failures"] >= 1
    assert "no <method>" in r2["error"]  # a rewrite that does not parse fails its round, not the run
    # every row was evolved with the kept method: one contradiction dropped, the rest answered
    assert set(res.dropped) == {f"row{FAILS}"} and res.dropped[f"row{FAILS}"].startswith("contradicting:")
    assert len(res.rows) == 11 and not res.errors
    k = next(i for i in range(12) if i != FAILS)
    row = next(r for r in res.rows if r["id"] == f"row{k}")
    assert row["messages"][0]["content"] == f"question {k} with steps s{k}x0 s{k}x1 s{k}x2 s{k}x3"
    assert row["messages"][1]["content"].startswith(f"answer to: question {k} with steps")
    assert row["meta"]["provenance"]["original"] == f"question {k}" and row["meta"]["provenance"]["method_index"] == 1
    assert "fixed Evol-Instruct prompts fail" in res.summary


def test_auto_evol_command_saves_the_method_and_records_it_on_the_run(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"question {i}", "input": "", "output": "x"}) + "\n"
                           for i in range(8)))
    out, wsfile = tmp_path / "out.jsonl", tmp_path / "ws.sqlite"
    with LoopbackServer(reply) as srv:
        rc = main(["generate", "auto-evol", str(src), "--model", "openai/loopback", "--api-base", srv.api_base,
                   "--rounds", "1", "--batch", "4", "--heldout", "4", "-o", str(out), "--workspace", str(wsfile)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert (tmp_path / "out.jsonl.method.txt").read_text() == IMPROVED + "\n"
    from workbench.store.workspace import Workspace

    with Workspace.open(wsfile) as ws:
        run = ws.runs()[0]
        assert run["counts"]["auto_evol.method"] == IMPROVED
        assert run["counts"]["evol_instruct.failure_rate"] is not None
