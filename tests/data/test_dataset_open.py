"""Dataset.open over real files: the Arrow cache is reused and rebuilt, several files of
different formats combine into one dataset, and every container reads."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

from workbench.data.dataset import Dataset
from workbench.data.errors import DataError
from workbench.paths import cache_dir

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def _arrow_files():
    return sorted((cache_dir() / "arrow").glob("*.arrow"))


def test_cache_is_reused_then_rebuilt_when_the_source_changes(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text('{"text": "one"}\n{"text": "two"}\n')
    ds = Dataset.open(src)
    assert [r["text"] for r in ds] == ["one", "two"]
    first = _arrow_files()
    assert len(first) == 1
    stamp = first[0].stat().st_mtime_ns
    ds2 = Dataset.open(src)
    assert _arrow_files() == first and first[0].stat().st_mtime_ns == stamp  # reused, not rewritten
    assert len(ds2) == 2
    src.write_text('{"text": "one"}\n{"text": "two"}\n{"text": "three, longer"}\n')
    os.utime(src, ns=(stamp + 10**9, stamp + 10**9))
    ds3 = Dataset.open(src)
    assert [r["text"] for r in ds3] == ["one", "two", "three, longer"]
    assert len(_arrow_files()) == 2
    assert src.read_text().count("\n") == 3  # the source is never touched


def test_a_directory_of_mixed_formats_opens_as_one_dataset():
    ds = Dataset.open(SAMPLES)
    assert len(ds) == 110
    sources = {Path(s).name for s in ds.column("source")}
    assert sources == {p.name for p in SAMPLES.iterdir()}
    assert set(ds.formats.values()) == {"alpaca", "sharegpt", "openai", "trl", "hh", "text"}
    assert len(set(ds.ids)) == len(ds)  # every row keeps a distinct id
    i = ds.index_of("sg-002")
    rec = ds.record(i)
    assert rec["source"].endswith("sharegpt.json") and rec["messages"][1]["tool_calls"][0]["name"] == "get_weather"


def test_several_paths_combine_and_keep_their_source(tmp_path):
    a = tmp_path / "a.json"
    a.write_text(json.dumps([{"instruction": "x", "output": "y"}]))
    b = tmp_path / "b.jsonl.gz"
    with gzip.open(b, "wt") as f:
        f.write(json.dumps({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}) + "\n")
    ds = Dataset.open([a, b, SAMPLES / "hh.jsonl"])
    assert len(ds) == 12
    assert ds.formats == {str(a): "alpaca", str(b): "sharegpt", str(SAMPLES / "hh.jsonl"): "hh"}
    assert [ds.record(0)["source"], ds.record(1)["source"]] == [str(a), str(b)]
    assert ds.record(1)["id"] == "b.jsonl.gz:0"


def test_save_to_disk_directory(tmp_path):
    import datasets

    rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]} for i in range(5)]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "hf"))
    shutil.copy(SAMPLES / "text.jsonl", tmp_path / "text.jsonl")
    ds = Dataset.open(tmp_path)  # a directory holding a save_to_disk dir and a file
    assert len(ds) == 15
    assert ds.formats[str(tmp_path / "hf")] == "openai"
    assert ds.record(0)["messages"][1]["content"] == "a0"


def test_csv_and_parquet_containers():
    ds = Dataset.open([SAMPLES / "trivia_qa.csv", SAMPLES / "ultrachat_style.parquet"])
    assert len(ds) == 20
    first = ds.record(0)
    assert first["messages"][0]["content"].startswith("What is the boiling point")
    assert first["meta"] == {"category": "science"}
    assert ds.record(12)["meta"]["prompt_id"] == "uc-0000" and len(ds.record(12)["messages"]) == 4


def test_parquet_with_timestamps_and_binary_columns(tmp_path):
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.table({"text": ["a", "b"],
                  "crawled": [datetime.datetime(2024, 5, 1, 12, 0), None],
                  "thumb": [b"\x89PNG", None]})
    pq.write_table(t, tmp_path / "t.parquet")
    ds = Dataset.open(tmp_path / "t.parquet")
    assert ds.record(0)["meta"] == {"crawled": "2024-05-01T12:00:00", "thumb": "base64:iVBORw=="}
    assert ds.record(1)["meta"] == {}


def test_one_cache_per_file_whatever_on_error_says(tmp_path):
    """`info` reads with on_error="skip", other commands with "stop": one conversion serves both,
    and a stopping reader still stops at the first bad row, naming its line."""
    src = tmp_path / "d.jsonl"
    src.write_text('{"text": "one"}\n{"text": \n{"text": "three"}\n')
    skipped = Dataset.open(src, on_error="skip")
    assert [r["text"] for r in skipped] == ["one", "three"]
    assert [e["line"] for e in skipped.errors] == [2]
    assert len(_arrow_files()) == 1
    try:
        Dataset.open(src)
    except DataError as e:
        assert f"{src}:2: malformed JSON" in str(e)
    else:
        raise AssertionError("a stopping reader opened a file with a bad row")
    assert len(_arrow_files()) == 1
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "one"}\n')
    assert len(Dataset.open(good)) == 1
    assert len(Dataset.open(good, on_error="skip")) == 1
    assert len(_arrow_files()) == 2  # the stopping reader's conversion serves the skipping one
