"""`workbench generate` and `workbench judge` end to end against the loopback server."""

from __future__ import annotations

import json

from workbench.cli import main
from tests.support.loopback import LoopbackServer


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
        assert ws.run(job)["log"]["usage"]["calls"] == 2  # tokens and cost of the job


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


def test_a_rewrite_failing_its_check_is_asked_again_on_the_next_run(tmp_path, capsys):
    # issue 14.5: the first reply is too short for a step-by-step answer; it must not be cached
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "Add 2 and 2.", "input": "", "output": "4"}\n')
    out, wsfile = tmp_path / "out.jsonl", tmp_path / "ws.sqlite"
    replies = iter(["4.", "Step 1: add. Step 2: check. Final answer: 4.", "Step 1: redo. Step 2: again. So: 4."])
    with LoopbackServer(lambda m: next(replies)) as srv:
        cmd = ["generate", "cot", str(src), "--model", "openai/loopback", "--api-base", srv.api_base,
               "-o", str(out), "--workspace", str(wsfile), "--retries", "0"]
        assert main(cmd) == 1 and "step-by-step answer too short" in capsys.readouterr().err
        assert main(cmd) == 0 and srv.total == 2
        assert json.loads(out.read_text())["output"].startswith("Step 1")
        # a third run is answered from the cache; --no-cache asks the model again
        assert main(cmd) == 0 and srv.total == 2
        assert main(cmd + ["--no-cache"]) == 0 and srv.total == 3
        assert "redo" in json.loads(out.read_text())["output"]


def test_credentials_in_api_base_stay_out_of_the_workspace_and_the_output(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "Add 2 and 2.", "input": "", "output": "4"}\n')
    out, wsfile = tmp_path / "out.jsonl", tmp_path / "ws.sqlite"
    with LoopbackServer(_reply, faults={"Add 2": ["400"]}) as srv:
        base = f"http://user:pw-s3cret@127.0.0.1:{srv.port}/v1?api_key=k3y-s3cret"
        rc = main(["generate", "cot", str(src), "--model", "openai/loopback", "--api-base", base, "-o", str(out),
                   "--workspace", str(wsfile), "--retries", "0"])
        assert srv.targets and "k3y-s3cret" in srv.targets[0][0]
    captured = capsys.readouterr()
    assert rc == 1 and "prompt too long" in captured.err
    from workbench.store.workspace import Workspace

    with Workspace.open(wsfile) as ws:
        dump = "\n".join(ws._db.iterdump())
        assert "api_key=***" in dump  # the run's parameters name the server, redacted
    for text in (dump, captured.out, captured.err):
        assert "s3cret" not in text


def test_generated_rows_reach_the_gen_pane(tmp_path, capsys):
    # rows written by `workbench generate` are kept in the workspace for review, as the
    # palette's are: the Session (and so the Gen pane) lists them with their diffs
    from workbench.session import Session

    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "Add 2 and 2.", "input": "", "output": "4"}\n')
    wsfile = tmp_path / "ws.sqlite"
    with LoopbackServer(_reply) as srv:
        assert main(["generate", "cot", str(src), "--model", "openai/loopback", "--api-base", srv.api_base,
                     "-o", str(tmp_path / "out.jsonl"), "--workspace", str(wsfile)]) == 0
    assert "Gen pane" in capsys.readouterr().err
    s = Session.open([str(src)], workspace=str(wsfile))
    try:
        (key, item), = s.generated().items()
    finally:
        s.close()
    assert key == "cot:in.jsonl:0" and item["op"] == "cot" and item["parent"] == "in.jsonl:0"
    assert item["before"].endswith("4") and "Step 1" in item["after"]
