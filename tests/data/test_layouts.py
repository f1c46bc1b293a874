"""A .json file that is one object holding the rows: wrappers ({"data": [...]}, any one key,
with metadata beside it) and pandas' DataFrame.to_json object layouts (columns: its default,
index, split, table) read as the same rows as an array would; an object that is none of these
is refused with a message naming what it is, and no --format/--map hint when they cannot help."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from workbench.data import readers
from workbench.data.errors import DataError
from workbench.data.readers import iter_records

CASES = Path(__file__).parent / "cases"
ROWS = [{"instruction": "Say hi.", "input": "", "output": "Hi!"},
        {"instruction": "Count to three.", "input": "slowly", "output": "One, two, three."},
        {"instruction": "Name a colour.", "input": "", "output": "Teal."}]


def _canon(path, **kw):
    return [(r["kind"], r["system"], r["messages"], r["meta"]) for r in iter_records(str(path), **kw)]


def test_the_case_files_read():
    assert [r["messages"][1]["content"] for r in iter_records(str(CASES / "column_oriented.json"))] == [
        "Hi!", "One, two, three."]
    assert [r["messages"][0]["content"] for r in iter_records(str(CASES / "wrapped_data.json"))] == ["Say hi."]


@pytest.mark.parametrize("orient", ["columns", "index", "split", "table"])
@pytest.mark.parametrize("indent", [None, 2])
def test_every_pandas_object_layout_reads_as_the_records(tmp_path, orient, indent):
    df = pd.DataFrame(ROWS)
    want = tmp_path / "records.json"
    df.to_json(want, orient="records")
    got = tmp_path / f"{orient}.json"
    df.to_json(got, orient=orient, indent=indent)
    rows = _canon(got)
    if orient == "table":  # pandas adds the index as a field of each record
        assert [m for *_, m in rows] == [{"index": i} for i in range(3)]
        rows = [(k, s, msgs, {}) for k, s, msgs, _ in rows]
    assert rows == _canon(want)


@pytest.mark.parametrize("wrapper", [
    lambda rows: {"data": rows},
    lambda rows: {"version": "1.0", "examples": rows},
    lambda rows: {"rows": rows, "meta": {"source": "hand"}},
])
def test_wrappers_under_any_key_read_as_the_rows(tmp_path, wrapper):
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps(wrapper(ROWS), indent=1))
    assert _canon(path) == _canon_rows(tmp_path)


def _canon_rows(tmp_path):
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(ROWS))
    return _canon(plain)


def test_a_bad_row_in_a_wrapper_names_its_own_line(tmp_path):
    path = tmp_path / "wrapped.json"
    rows = [ROWS[0], {"instruction": 5, "output": "x"}]
    path.write_text(json.dumps({"data": rows}, indent=2))
    with pytest.raises(DataError) as e:
        list(iter_records(str(path)))
    text = path.read_text().splitlines()
    assert text[e.value.line - 1].strip() == "{" and text[e.value.line].strip() == '"instruction": 5,'


def test_a_wrapper_bigger_than_one_row_may_be_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROW_BYTES", 200)
    monkeypatch.setattr(readers, "LAYOUT_BYTES", 6400)
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"data": ROWS * 3}, indent=2))
    assert 200 < path.stat().st_size < 6400 and len(_canon(path)) == 9
    one_row = tmp_path / "one.json"
    one_row.write_text(json.dumps({"instruction": "x" * 300, "output": "y"}, indent=2))
    with pytest.raises(DataError, match="over the"):
        list(iter_records(str(one_row)))


@pytest.mark.parametrize("obj, says", [
    ({"train": ROWS, "test": ROWS}, "several lists of rows (train, test)"),
    ({"count": 3, "ok": True}, "hold no rows"),
    ({"a": {"x": 1}, "b": {"y": 2}}, "no format reads in either pandas layout"),
    ({"data": [1, 2, 3]}, "hold no rows"),
])
def test_objects_that_hold_no_rows_are_refused_by_what_they_are(tmp_path, obj, says):
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(DataError, match=re.escape(says)) as e:
        list(iter_records(str(path)))
    assert "--format" not in str(e.value) and "--map" not in str(e.value)


def test_the_hint_offers_format_and_map_only_when_they_can_help(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"q": "hi", "a": "hello"}) + "\n")
    with pytest.raises(DataError, match="use --format or --map"):
        list(iter_records(str(path)))
    path.write_text(json.dumps({"scores": {"a": 1}, "n": 3}) + "\n")
    with pytest.raises(DataError, match="--format and --map cannot help"):
        list(iter_records(str(path)))


def test_rows_as_lists_say_they_have_no_field_names(tmp_path):
    path = tmp_path / "values.json"
    pd.DataFrame(ROWS).to_json(path, orient="values")
    with pytest.raises(DataError, match="orient='values'") as e:
        list(iter_records(str(path)))
    assert "--format" not in str(e.value) and "--map" not in str(e.value)
