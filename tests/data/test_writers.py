"""write_records: containers by file name, atomic replacement, the lost report."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from workbench.data.errors import DataError
from workbench.data.readers import iter_records
from workbench.data.writers import write_records

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def _recs(name):
    return list(iter_records(str(SAMPLES / name)))


def test_json_array_jsonl_and_gzip(tmp_path):
    recs = _recs("sharegpt_kto.jsonl")
    for name in ("a.json", "a.jsonl", "a.jsonl.gz", "a.json.gz"):
        out = tmp_path / name
        rep = write_records(recs, "sharegpt", out)
        assert rep == {"rows": 10, "lost": []}
        raw = gzip.open(out, "rt").read() if name.endswith(".gz") else out.read_text()
        rows = json.loads(raw) if ".json" in name and ".jsonl" not in name else [json.loads(l) for l in raw.splitlines()]
        assert rows == [json.loads(l) for l in (SAMPLES / "sharegpt_kto.jsonl").read_text().splitlines()]
        back = list(iter_records(str(out)))
        assert [r["label"] for r in back] == [r["label"] for r in recs]


def test_a_failure_midway_leaves_the_old_output_and_no_temp_file(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")

    def records():
        yield from _recs("alpaca.jsonl")[:3]
        raise DataError("in.jsonl", 4, "malformed JSON")

    with pytest.raises(DataError):
        write_records(records(), "alpaca", out)
    assert out.read_text() == "previous\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]


def test_lost_report_names_rows_and_what(tmp_path):
    recs = _recs("openai_messages.jsonl")
    rep = write_records(recs, "hh", tmp_path / "h.jsonl")
    assert rep["rows"] == len(recs) == 14
    lost = {(x["row"], x["what"]) for x in rep["lost"]}
    assert ("openai_messages.jsonl:0", "system prompt") in lost
    assert ("openai_messages.jsonl:1", "tool calls") in lost
    assert ("openai_messages.jsonl:1", "tool schemas") in lost


def test_parquet_keeps_rows_of_mixed_shapes(tmp_path):
    recs = _recs("openai_messages.jsonl")  # content is a string in some turns and parts in others
    out = tmp_path / "m.parquet"
    assert write_records(recs, "parquet", out)["rows"] == len(recs) == 14
    back = list(iter_records(str(out)))
    for a, b in zip(recs, back):
        assert (a["system"], a["messages"], a["label"]) == (b["system"], b["messages"], b["label"])
        assert json.loads(a["tools"] or "null") == json.loads(b["tools"] or "null")


def test_unknown_target(tmp_path):
    with pytest.raises(ValueError, match="unknown target format 'yaml'"):
        write_records([], "yaml", tmp_path / "x")


@pytest.mark.parametrize("to", ["openai", "sharegpt", "alpaca", "hh", "text", "parquet"])
def test_a_mixed_dataset_converts_and_reads_back_whole(tmp_path, to):
    from workbench.data.dataset import Dataset

    ds = Dataset.open(SAMPLES)
    out = tmp_path / ("all.parquet" if to == "parquet" else "all.jsonl")
    rep = write_records(ds, to, out)
    assert rep["rows"] == len(ds) == 110
    back = Dataset.open(out)
    assert len(back) == 110 and back.errors == []
    kinds = lambda d: sorted(d.column("kind"))  # noqa: E731
    if to == "text":
        assert set(back.column("kind")) == {"sft", "text"}
    else:
        assert kinds(back) == kinds(ds)
    if to in ("openai", "parquet"):  # OpenAI rows hold everything: the same conversations come back
        for a, b in zip(ds, back):
            assert (a["system"], a["messages"], a["chosen"], a["rejected"], a["label"], a["text"]) == \
                   (b["system"], b["messages"], b["chosen"], b["rejected"], b["label"], b["text"]), a["id"]


def test_a_broken_row_of_the_files_own_format_is_still_an_error(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}]}) + "\n"
                 + json.dumps({"messages": [{"content": "no role"}], "text": "hi"}) + "\n"
                 + json.dumps({"prompt": "q", "chosen": "a", "rejected": "b"}) + "\n")
    errors: list = []
    recs = list(iter_records(str(p), on_error="skip", errors=errors))
    assert [r["kind"] for r in recs] == ["sft", "preference"]  # the TRL row reads as one
    assert errors[0]["line"] == 2
