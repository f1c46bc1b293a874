"""`workbench info` and `workbench convert` through a real subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"


def wb(*args, cwd=ROOT):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_info_on_the_sample_directory_json():
    r = wb("info", "sample_data/", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["format"] == "mixed" and info["rows"] == 110 and info["errors"] == []
    assert info["kinds"] == {"sft": 58, "preference": 30, "text": 10, "kto": 12}
    assert info["formats"]["sample_data/hh.jsonl"] == "hh"
    assert info["rows_per_file"]["sample_data/sharegpt.json"] == 10
    assert info["fields"]["conversations"] == 20
    assert info["length_chars"]["max"] >= info["length_chars"]["p50"] > 0


def test_info_text_and_single_format():
    r = wb("info", SAMPLES / "sharegpt.json")
    assert r.returncode == 0 and "format   sharegpt" in r.stdout and "rows     10" in r.stdout


def test_info_lists_problems(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a"}\n{"text": \n{"text": "b"}\n')
    r = wb("info", p, "--json")
    info = json.loads(r.stdout)
    assert info["rows"] == 2 and info["format"] == "text"
    assert info["errors"][0]["line"] == 2 and "malformed JSON" in info["errors"][0]["message"]


def test_info_on_an_empty_file_names_the_problem_not_none(tmp_path):
    p = tmp_path / "empty.jsonl"
    p.write_text("")
    r = wb("info", p)
    assert "format   unknown (no readable rows)" in r.stdout and "None" not in r.stdout
    assert "empty.jsonl: file is empty" in r.stdout


def test_info_map_override(tmp_path):
    p = tmp_path / "q.jsonl"
    p.write_text('{"ask": "why?", "reply": "because"}\n')
    assert json.loads(wb("info", p, "--json").stdout)["errors"][0]["message"].startswith("cannot tell")
    r = wb("info", p, "--json", "--map", "ask=instruction", "--map", "reply=output")
    info = json.loads(r.stdout)
    assert info["format"] == "alpaca" and info["kinds"] == {"sft": 1}


def test_convert_stops_at_a_bad_row_and_writes_nothing(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "a"}\n{"text": "b"\n{"text": "c"}\n')
    before = digest(src)
    out = tmp_path / "out.jsonl"
    r = wb("convert", src, "--to", "sharegpt", "-o", out)
    assert r.returncode == 1
    assert f"{src}:2: malformed JSON" in r.stderr and "nothing written" in r.stderr
    assert not out.exists() and os.listdir(tmp_path) == ["in.jsonl"]  # no temp file left either
    r = wb("convert", src, "--to", "openai", "-o", out, "--on-error", "skip")
    assert r.returncode == 0, r.stderr
    assert f"skipped {src}:2: malformed JSON" in r.stderr
    assert [json.loads(l)["text"] for l in out.read_text().splitlines()] == ["a", "c"]
    assert digest(src) == before


def test_convert_reports_every_skipped_row(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"messages": [{"role": "user", "content": "q"}]}\n{"messages": [{"role": "ghost", "content": "x"}]}\n'
                   'not json\n{"messages": [{"role": "user", "content": "q2"}]}\n')
    r = wb("convert", src, "--to", "alpaca", "-o", tmp_path / "o.jsonl", "--on-error", "skip")
    assert r.returncode == 0
    skipped = [l for l in r.stderr.splitlines() if l.startswith("skipped")]
    assert len(skipped) == 2 and ":2: unknown role 'ghost'" in skipped[0] and ":3: malformed JSON" in skipped[1]


def test_convert_says_what_the_target_cannot_hold(tmp_path):
    out = tmp_path / "a.jsonl"
    r = wb("convert", SAMPLES / "openai_messages.jsonl", "--to", "alpaca", "-o", out)
    assert r.returncode == 0
    assert "alpaca cannot hold: tool calls in 2 rows" in r.stderr
    assert "alpaca cannot hold: train weights" in r.stderr
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(rows) == 14 and rows[1]["output"] == "Apple (AAPL) last traded at $227.48."


@pytest.mark.parametrize("name", ["sharegpt.json", "alpaca.jsonl", "openai_messages.jsonl", "hh.jsonl",
                                  "text.jsonl", "trl_preference.jsonl"])
def test_convert_to_the_same_format_reproduces_the_file(tmp_path, name):
    to = {"trl_preference.jsonl": "openai", "openai_messages.jsonl": "openai"}.get(name, name.split(".")[0].split("_")[0])
    out = tmp_path / name
    r = wb("convert", SAMPLES / name, "--to", to, "-o", out)
    assert r.returncode == 0, r.stderr
    load = (lambda p: json.loads(p.read_text())) if name.endswith(".json") else \
        (lambda p: [json.loads(l) for l in p.read_text().splitlines()])
    assert json.dumps(load(out)) == json.dumps(load(SAMPLES / name))


def test_convert_parquet_and_back(tmp_path):
    pq_out = tmp_path / "x.parquet"
    assert wb("convert", SAMPLES / "sharegpt.json", "--to", "parquet", "-o", pq_out).returncode == 0
    back = tmp_path / "back.json"
    r = wb("convert", pq_out, "--to", "sharegpt", "-o", back)
    assert r.returncode == 0, r.stderr
    assert json.loads(back.read_text()) == json.loads((SAMPLES / "sharegpt.json").read_text())


def test_convert_refuses_to_overwrite_its_source(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text('{"text": "a"}\n')
    r = wb("convert", src, "--to", "text", "-o", src)
    assert r.returncode == 1 and "never overwritten" in r.stderr and src.read_text() == '{"text": "a"}\n'
