"""`workbench template list | render | lint` on the sample data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.data.dataset import Dataset
from workbench.templates.render import render_record

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list(capsys):
    code, out, _ = run(capsys, "template", "list")
    assert code == 0 and out.startswith("chatml ") and "qwen2.5" in out and "tokenizer:DIR" in out


def test_render_prints_exactly_the_rendered_string(capsys):
    path = str(SAMPLES / "sharegpt.json")
    code, out, err = run(capsys, "template", "render", path, "--template", "llama-3", "--row", "1")
    assert code == 0 and all(line.startswith("workbench: note: ") for line in err.splitlines())
    assert out == render_record(Dataset.open([path]).record(1), "llama-3").text


def test_render_takes_a_row_id_as_decide_and_similar_do(capsys):
    path = str(SAMPLES / "alpaca.jsonl")
    code, out, err = run(capsys, "template", "render", path, "-t", "chatml", "--row", "alpaca.jsonl:3")
    assert code == 0 and err == ""
    assert out == render_record(Dataset.open([path]).record(3), "chatml").text
    code, out, err = run(capsys, "template", "render", path, "-t", "chatml", "--row", "no-such-id")
    assert code == 1 and out == "" and "no row with id 'no-such-id'" in err


def test_render_says_what_the_template_dropped_but_prints_only_the_rendering(capsys):
    path = str(SAMPLES / "openai_messages.jsonl")  # row 1: an assistant tool call
    code, out, err = run(capsys, "template", "render", path, "-t", "chatml", "--row", "1")
    assert code == 0 and out == render_record(Dataset.open([path]).record(1), "chatml").text
    assert "note: dropped_tool_call: turn 1: the call to get_stock_price is not in the rendering" in err
    code, out, err = run(capsys, "template", "render", path, "-t", "qwen2.5", "--row", "1")
    assert code == 0 and "dropped_tool_call" not in err  # a template with tool calls keeps it


def test_render_mask_plain_brackets_the_trained_spans(capsys):
    path = str(SAMPLES / "trl_preference.jsonl")
    code, out, _ = run(capsys, "template", "render", path, "-t", "chatml", "--mask", "--plain", "--side", "rejected")
    rec = Dataset.open([path]).record(0)
    answer = rec["rejected"][0]["content"]
    assert code == 0 and f"[[{answer}<|im_end|>]]" in out and out.count("[[") == 1
    assert "\x1b[" not in out  # captured output is no terminal: never colour


def test_render_tokens(capsys):
    path = str(SAMPLES / "openai_messages.jsonl")
    code, out, _ = run(capsys, "template", "render", path, "-t", "smollm2", "--tokens", "--max-len", "8")
    assert code == 0
    last = out.rstrip("\n").splitlines()[-1]
    assert last.startswith("-- tokens ") and "over max-len 8: truncation cuts at character" in last


def test_render_errors_are_clear(capsys):
    path = str(SAMPLES / "openai_messages.jsonl")  # its first row has a system prompt
    code, out, err = run(capsys, "template", "render", path, "-t", "gemma")
    assert code == 1 and out == "" and "System role not supported" in err and "row 0" in err
    code, _, err = run(capsys, "template", "render", path, "-t", "chatml", "--row", "999")
    assert code == 1 and "out of range" in err
    with pytest.raises(SystemExit):
        main(["template", "render", path, "-t", "nope"])
    assert "unknown template 'nope'" in capsys.readouterr().err


def test_lint_json_and_text(capsys, tmp_path):
    path = str(SAMPLES / "openai_messages.jsonl")
    code, out, _ = run(capsys, "template", "lint", path, "-t", "gemma", "--json")
    report = json.loads(out)
    assert code == 1 and report["template"] == "gemma" and report["counts"].get("rejected", 0) >= 1
    assert report["run_id"] is None  # no workspace exists for this dataset
    ws_path = tmp_path / "ws.sqlite"
    code, out, _ = run(capsys, "template", "lint", str(SAMPLES / "alpaca.jsonl"), "-t", "chatml",
                       "--workspace", str(ws_path), "--split-reasoning")
    # two alpaca answers start with a <think> block: ChatML keeps it as text, but split off it has no place
    assert code == 1 and "16 rows, 2 with issues" in out and "dropped_reasoning  2 rows" in out
    assert "signals written to the workspace" in out
    from workbench.store.workspace import Workspace

    ws = Workspace.open(ws_path)
    issues = ws.signal_values("template_issues")
    assert len(issues) == 16 and sum(v == ["dropped_reasoning"] for v in issues.values()) == 2
    ws.close()
    code, out, _ = run(capsys, "template", "lint", str(SAMPLES / "alpaca.jsonl"), "-t", "chatml")
    assert code == 0 and "16 rows, 0 with issues" in out  # as the source holds it, nothing is lost
