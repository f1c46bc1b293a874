"""Bad input: each case names the file and the line (or row), stops by default, and is
listed while reading goes on with on_error="skip"."""

from __future__ import annotations

import gzip
import json

import pytest

from workbench.data.dataset import Dataset
from workbench.data.errors import DataError
from workbench.data.readers import MAX_ROW_BYTES, expand_paths, iter_records

GOOD = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}


def _jsonl(path, lines):
    path.write_bytes(b"".join((l if isinstance(l, bytes) else json.dumps(l).encode()) + b"\n" for l in lines))
    return str(path)


def _stop_error(path, **kw) -> DataError:
    with pytest.raises(DataError) as ei:
        list(iter_records(path, **kw))
    return ei.value


def _skip(path, **kw):
    errors: list = []
    recs = list(iter_records(path, on_error="skip", errors=errors, **kw))
    return recs, errors


CASES = {
    "malformed JSON line": (b'{"messages": [', 2, "malformed JSON"),
    "unknown role": ({"messages": [{"role": "narrator", "content": "x"}]}, 2, "unknown role 'narrator'"),
    "missing required field": ({"messages": [{"content": "no role"}]}, 2, "has no 'role'"),
    "non-UTF-8 bytes": (b'{"messages": [{"role": "user", "content": "caf\xe9"}]}', 2, "not valid UTF-8: byte 0xe9"),
    # Types in JSON's words: the file holds an object, not a Python "dict" (it said "a int").
    "wrong type": ({"messages": {"role": "user"}}, 2, "messages is an object, not a list"),
    "not an object": (b"[1, 2]", 2, "a row must be a JSON object, not a list"),
    # Valid JSON, but half a surrogate pair is no Unicode text: Arrow (and any writer) refuses it.
    "lone surrogate escape": (b'{"messages": [{"role": "user", "content": "a \\ud800 b"}]}', 2,
                              "the text holds \\ud800, half of a surrogate pair"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_row_stops_naming_file_and_line(tmp_path, case):
    bad, line, words = CASES[case]
    path = _jsonl(tmp_path / "data.jsonl", [GOOD, bad, GOOD])
    err = _stop_error(path)
    assert err.path == path and err.line == line and words in err.message
    assert str(err).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_row_is_skipped_and_reported(tmp_path, case):
    bad, line, words = CASES[case]
    path = _jsonl(tmp_path / "data.jsonl", [GOOD, bad, GOOD])
    recs, errors = _skip(path)
    assert [r["row"] for r in recs] == [0, 2]  # row ids stay stable when a row is skipped
    assert [(e["file"], e["line"]) for e in errors] == [(path, line)]
    assert words in errors[0]["message"]


def test_missing_required_field_for_the_detected_format(tmp_path):
    path = _jsonl(tmp_path / "a.jsonl", [{"instruction": "a", "output": "b"}, {"instruction": "c"}])
    err = _stop_error(path)
    assert err.line == 2 and "missing field 'output'" in err.message


def test_empty_file(tmp_path):
    for name in ("empty.jsonl", "empty.json", "blank.jsonl"):
        p = tmp_path / name
        p.write_text("\n\n" if name.startswith("blank") else "")
        err = _stop_error(str(p))
        assert err.path == str(p) and err.line is None and "empty" in err.message
        recs, errors = _skip(str(p))
        assert recs == [] and errors[0]["message"].startswith("file is empty")


def test_ten_megabyte_row(tmp_path):
    huge = {"messages": [{"role": "user", "content": "x" * (10 * 2**20)}]}
    assert 10 * 2**20 > MAX_ROW_BYTES
    path = _jsonl(tmp_path / "big.jsonl", [GOOD, huge, GOOD])
    err = _stop_error(path)
    assert err.line == 2 and "row is 10.0 MiB" in err.message and "limit" in err.message
    recs, errors = _skip(path)
    assert len(recs) == 2 and errors[0]["line"] == 2


def test_ten_megabyte_row_in_a_json_array(tmp_path):
    p = tmp_path / "big.json"
    p.write_text(json.dumps([GOOD, {"text": "y" * (10 * 2**20)}, GOOD], indent=1))
    recs, errors = _skip(str(p), format="openai")
    assert len(recs) == 2 and "MiB" in errors[0]["message"] and errors[0]["line"] > 1


def test_json_array_errors_name_the_line(tmp_path):
    p = tmp_path / "arr.json"
    p.write_text('[\n {"text": "a"},\n {"text": "b",,}\n]\n')
    err = _stop_error(str(p))
    assert err.line == 3 and "malformed JSON" in err.message
    p.write_bytes(b'[\n {"text": "a"},\n {"text": "\xff"}\n]\n')
    err = _stop_error(str(p))
    assert err.line == 3 and "not valid UTF-8" in err.message
    p.write_text('[\n {"text": "a \\ud83d\\ude00"},\n {"text": "b \\udc00"}\n]\n')  # a pair, then half of one
    err = _stop_error(str(p))
    assert err.line == 3 and "\\udc00, half of a surrogate pair" in err.message


def test_unknown_sharegpt_role_and_csv_problems(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps([{"conversations": [{"from": "human", "value": "a"}, {"from": "wizard", "value": "b"}]}]))
    err = _stop_error(str(p))
    assert err.line == 1 and "unknown role 'wizard'" in err.message and "turn 2" in err.message
    c = tmp_path / "t.csv"
    c.write_bytes(b"instruction,output\nfirst,one\nsecond,caf\xe9\nthird,three\n")
    recs, errors = _skip(str(c))
    assert len(recs) == 2 and errors == [{"file": str(c), "line": 3, "message": "not valid UTF-8"}]


def test_unknown_format_and_file_type(tmp_path):
    p = _jsonl(tmp_path / "odd.jsonl", [{"foo": 1, "bar": 2}])
    err = _stop_error(p)
    assert err.line == 1 and "cannot tell the dataset format" in err.message and "bar, foo" in err.message
    t = tmp_path / "notes.txt"
    t.write_text("hello")
    assert "unsupported file type" in _stop_error(str(t)).message
    with pytest.raises(FileNotFoundError):
        expand_paths([str(tmp_path / "missing.jsonl")])


def test_damaged_gzip_is_an_error_not_a_traceback(tmp_path):
    rows = [{"messages": [{"role": "user", "content": f"q{i} {i * 7919 % 104729}"},
                          {"role": "assistant", "content": f"a{i} {i ** 3}"}]} for i in range(5000)]
    whole = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in rows))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) * 3 // 4])
    recs, errors = _skip(str(cut))
    assert recs and "damaged gzip file" in errors[-1]["message"] and errors[-1]["line"] == len(recs) + 1
    for name in ("plain.jsonl.gz", "plain.json.gz"):
        (tmp_path / name).write_text(json.dumps(GOOD))
        err = _stop_error(str(tmp_path / name))
        assert "damaged gzip file: Not a gzipped file" in err.message and err.line == 1


def test_gzipped_jsonl_reads_and_reports_lines(tmp_path):
    p = tmp_path / "d.jsonl.gz"
    with gzip.open(p, "wt") as f:
        f.write(json.dumps(GOOD) + "\n{oops\n")
    recs, errors = _skip(str(p))
    assert len(recs) == 1 and errors[0]["line"] == 2


def test_dataset_open_stop_and_skip(tmp_path):
    path = _jsonl(tmp_path / "data.jsonl", [GOOD, b"{bad", GOOD])
    with pytest.raises(DataError):
        Dataset.open(path)
    ds = Dataset.open(path, on_error="skip")
    assert len(ds) == 2 and ds.errors[0]["line"] == 2


def test_unreadable_files_are_reported_and_skipped(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp_path / "good.jsonl").write_text(json.dumps(GOOD) + "\n")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        Dataset.open(tmp_path)
    ds = Dataset.open(tmp_path, on_error="skip")
    assert len(ds) == 1
    assert ds.errors[0]["file"].endswith("broken.parquet") and "not a readable Parquet file" in ds.errors[0]["message"]
    t = tmp_path / "notes.txt"
    t.write_text("hello")
    recs, errors = _skip(str(t))
    assert recs == [] and "unsupported file type" in errors[0]["message"]


def test_json_file_holding_one_object_or_json_lines(tmp_path):
    one = tmp_path / "one.json"
    one.write_text(json.dumps(GOOD, indent=2))
    assert [r["messages"][1]["content"] for r in iter_records(str(one))] == ["a"]
    lines = tmp_path / "lines.json"
    lines.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n{oops\n")
    recs, errors = _skip(str(lines))
    assert len(recs) == 2 and errors[0]["line"] == 3


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_json_array_streams_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    from workbench.data import readers

    monkeypatch.setattr(readers, "CHUNK", chunk)
    rows = [{"text": f"row {i} — ünïcödé ✓ " + "x" * (i % 13), "n": i} for i in range(40)]
    body = json.dumps(rows, indent=1, ensure_ascii=False)
    p = tmp_path / "a.json"
    p.write_text(body, encoding="utf-8")
    assert [r["text"] for r in iter_records(str(p))] == [r["text"] for r in rows]
    assert [r["meta"]["n"] for r in iter_records(str(p))] == list(range(40))
    # a malformed row deep in the file: its line, and the rows before it
    bad = body.replace('"n": 30\n', '"n": 30,,\n')
    p.write_text(bad, encoding="utf-8")
    recs, errors = _skip(str(p))
    want_line = bad[: bad.index('"n": 30,,')].count("\n") + 1
    assert len(recs) == 30 and errors[0]["line"] == want_line and "malformed JSON" in errors[0]["message"]
    p.write_text(body[:-40], encoding="utf-8")  # cut short: the array is never closed
    recs, errors = _skip(str(p))
    assert len(recs) == 39 and errors and "the rest of the file was not read" in errors[0]["message"]
