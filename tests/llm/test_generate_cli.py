"""`workbench generate` and `workbench judge` end to end against the loopback server."""

from __future__ import annotations

import json

from workbench.cli import main
from workbench.llm.loopback import LoopbackServer


def _reply(messages):
    p = messages[-1]["content"]
    if "FAILME" in p:
        return ""  # an empty rewrite is an error on that row
    if p.startswith("Rate the response"):
        return "Rating: 3\nRationale: fine"
    return "Step 1: read. Step 2: answer. Final answer: ok."


def test_generate_cot_writes_input_format_with_provenance_and_lists_failures(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"instruction": "Add 2 and 2.", "input": "", "output": "4", "source_tag": "x"}\n'
        '{"instruction": "FAILME please", "input": "", "output": "no"}\n'
        '{"instruction": "Name a colour.", "input": "", "output": "Red"}\n')
    out = tmp_path / "out.jsonl"
    with LoopbackServer(_reply) as srv:
        rc = main(["generate", "cot", str(src), "--model", "openai/loopback", "--api-base", srv.api_base,
                   "-o", str(out), "--retries", "0"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "failed in.jsonl:1: GenerationError: model returned an empty step-by-step answer" in err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["instruction"] for r in rows] == ["Add 2 and 2.", "Name a colour."]
    assert rows[0]["output"].startswith("Step 1") and rows[0]["source_tag"] == "x"
    assert rows[0]["provenance"] == {"operation": "cot", "model": "openai/loopback", "parent": "in.jsonl:0",
                                     "original": "4"}


def test_judge_prints_a_summary_and_stores_signals(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "Add 2 and 2.", "input": "", "output": "4"}\n')
    wsfile = tmp_path / "ws.sqlite"
    with LoopbackServer(_reply) as srv:
        rc = main(["judge", str(src), "--model", "openai/loopback", "--api-base", srv.api_base,
                   "--aspects", "helpfulness,honesty", "--workspace", str(wsfile)])
    out = capsys.readouterr().out
    assert rc == 0 and "judged 1 of 1 rows" in out and "judge.helpfulness" in out and "mean 3.00" in out
    from workbench.store.workspace import Workspace

    with Workspace.open(wsfile) as ws:
        assert ws.signal_values("judge.score") == {"in.jsonl:0": 3.0}
        job = ws.runs()[0]["id"]
        assert ws.get_meta(f"llm_usage.{job}")["calls"] == 2  # tokens and cost of the job


def test_bad_prompt_template_is_a_clear_error(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "x", "input": "", "output": "y"}\n')
    rc = main(["generate", "cot", str(src), "-o", str(tmp_path / "o.jsonl"), "--prompt", "cot=/nonexistent.j2"])
    assert rc == 2 and "/nonexistent.j2" in capsys.readouterr().err


def test_persona_default_file_is_found_from_any_directory(tmp_path, capsys, monkeypatch):
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "Name a colour.", "input": "", "output": "Red"}\n')
    monkeypatch.chdir(tmp_path)  # examples/personas.jsonl is not under this directory
    with LoopbackServer(lambda messages: "How would a sailor name a colour?") as srv:
        rc = main(["generate", "persona", str(src), "--model", "openai/loopback", "--api-base", srv.api_base,
                   "-o", str(tmp_path / "o.jsonl"), "--retries", "0", "--workspace", str(tmp_path / "ws.sqlite")])
    err = capsys.readouterr().err
    assert rc == 0, err
    row = json.loads((tmp_path / "o.jsonl").read_text().splitlines()[0])
    assert row["provenance"]["persona"].startswith("A ")  # one of the bundled personas
