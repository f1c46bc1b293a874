"""Input that used to be lost silently, hang, or end in a traceback (issue 14 items 7-9, 12):
each is now read in full or refused with a `file:line` error."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workbench.data.dataset import Dataset
from workbench.data.errors import DataError
from workbench.data.readers import expand_paths, iter_records

ROW = {"instruction": "q", "output": "a"}


def _stop_error(path, **kw) -> DataError:
    with pytest.raises(DataError) as ei:
        list(iter_records(str(path), **kw))
    return ei.value


def wb(*args, cwd=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "HF_HUB_OFFLINE": "1"})


# -- item 7: silent input loss ---------------------------------------------------------------


@pytest.mark.parametrize("tail, words", [
    ("[{\"instruction\": \"lost\", \"output\": \"x\"}]", "a second JSON array"),
    ("trailing words", "'trailing words'"),
    ("\n\n{\"instruction\": \"lost\"}", "content after the JSON array"),
])
def test_content_after_a_json_array_is_an_error(tmp_path, tail, words):
    path = tmp_path / "data.json"
    path.write_text(json.dumps([ROW, ROW], indent=1) + "\n" + tail + "\n", encoding="utf-8")
    err = _stop_error(path)
    assert err.line == len(json.dumps([ROW, ROW], indent=1).splitlines()) + 1 + tail.count("\n")
    assert words in err.message
    errors: list = []
    assert len(list(iter_records(str(path), on_error="skip", errors=errors))) == 2  # the first array is read
    assert len(errors) == 1 and words in errors[0]["message"]


def test_blank_lines_after_a_json_array_are_fine(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps([ROW]) + "\n\n  \n", encoding="utf-8")
    assert len(list(iter_records(str(path)))) == 1


def test_csv_with_an_unclosed_quote_is_an_error(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('instruction,output\nq1,a1\nq2,"unclosed\nq3,a3\nq4,a4\n', encoding="utf-8")
    err = _stop_error(path)
    assert err.line == 3 and "never closed" in err.message
    path.write_text('instruction,output\nq1,"a"b\n', encoding="utf-8")  # a quote in the middle of a cell
    assert _stop_error(path).line == 2


def test_symlink_loops_and_links_read_each_real_file_once(tmp_path):
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    (d / "a.jsonl").write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    (d / "sub" / "b.jsonl").write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    (d / "self").symlink_to(".")
    (d / "sub" / "up").symlink_to("..")
    (d / "again.jsonl").symlink_to("a.jsonl")
    files = expand_paths([d])
    assert sorted(os.path.basename(f) for f in files) == ["a.jsonl", "b.jsonl"]
    assert len(Dataset.open([d, d / "a.jsonl"])) == 2


def test_fifo_and_device_are_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(DataError, match="not a regular file"):
            expand_paths([path])
        with pytest.raises(DataError, match="not a regular file"):
            list(iter_records(str(path)))
    d = tmp_path / "dir"
    d.mkdir()
    os.mkfifo(d / "p.jsonl")
    r = wb("info", d)  # would wait forever on the FIFO
    assert r.returncode == 1 and "p.jsonl: a FIFO (named pipe), not a regular file" in r.stderr, r.stderr


# -- item 8: tracebacks --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["deep.jsonl", "deep.json"])
def test_json_nested_thousands_deep_is_an_error(tmp_path, name):
    deep = '{"instruction": "q", "output": "a", "x": ' + "[" * 5000 + "]" * 5000 + "}"
    path = tmp_path / name
    text = f"[{json.dumps(ROW)},\n{deep}]" if name.endswith(".json") else f"{json.dumps(ROW)}\n{deep}\n"
    path.write_text(text, encoding="utf-8")
    err = _stop_error(path)
    assert err.line == 2 and "nested" in err.message
    r = wb("info", path)
    assert r.returncode == 0 and "Traceback" not in r.stderr and f"{path}:2: " in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("role", [["user"], {"name": "user"}, 3, None])
def test_a_role_that_is_not_a_string_is_an_error(tmp_path, role):
    path = tmp_path / "data.jsonl"
    rows = [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
            {"messages": [{"role": role, "content": "q"}, {"role": "assistant", "content": "a"}]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    err = _stop_error(path)
    assert err.line == 2 and "role" in err.message
    sg = tmp_path / "sg.jsonl"
    rows = [{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]},
            {"conversations": [{"from": role, "value": "q"}, {"from": "gpt", "value": "a"}]}]
    sg.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    err = _stop_error(sg)
    assert err.line == 2


def test_a_dangling_symlink_in_a_directory_is_named(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "a.jsonl").write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    (d / "gone.jsonl").symlink_to("missing.jsonl")
    with pytest.raises(DataError, match="a symbolic link to missing.jsonl, which does not exist"):
        expand_paths([d])
    r = wb("info", d)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "gone.jsonl: a symbolic link" in r.stderr


# -- item 9: numbers JSON cannot hold, KTO labels ----------------------------------------------


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999", "-2.5e400"])
@pytest.mark.parametrize("name", ["data.jsonl", "data.json", "one.json"])
def test_nan_and_infinity_are_refused_naming_the_line(tmp_path, token, name):
    row = '{"instruction": "q", "output": "a", "score": %s}' % token
    path = tmp_path / name
    if name == "one.json":
        path.write_text("\n" + row + "\n", encoding="utf-8")
        line = 2
    elif name.endswith(".json"):
        path.write_text(f"[{json.dumps(ROW)},\n{row},\n{json.dumps(ROW)}]\n", encoding="utf-8")
        line = 2
    else:
        path.write_text(f"{json.dumps(ROW)}\n{row}\n{json.dumps(ROW)}\n", encoding="utf-8")
        line = 2
    err = _stop_error(path)
    assert err.line == line and token in err.message and "JSON has no NaN or infinity" in err.message
    if name != "one.json":
        errors: list = []
        assert len(list(iter_records(str(path), on_error="skip", errors=errors))) == 2 and len(errors) == 1
        r = wb("convert", path, "--to", "alpaca", "-o", tmp_path / "out.jsonl", "--on-error", "skip")
        assert r.returncode == 0, r.stderr
        out = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
        assert token not in out and len(out.splitlines()) == 2


def test_nan_from_parquet_is_written_as_null_and_said(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "scores.parquet"
    pq.write_table(pa.table({"instruction": ["q1", "q2"], "output": ["a1", "a2"], "score": [float("nan"), 1.5]}), path)
    for out in ("out.jsonl", "out.json"):
        r = wb("convert", path, "--to", "alpaca", "-o", tmp_path / out)
        assert r.returncode == 0, r.stderr
        assert "NaN or infinite numbers" in r.stderr and "written as null" in r.stderr
        text = (tmp_path / out).read_text(encoding="utf-8")
        assert "NaN" not in text
        rows = json.loads(text) if out.endswith(".json") else [json.loads(line) for line in text.splitlines()]
        assert [r.get("score") for r in rows] == [None, 1.5]


@pytest.mark.parametrize("row", [
    {"prompt": "q", "completion": "a", "label": 1},
    {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "label": 0},
    {"instruction": "q", "output": "a", "kto_tag": 1},
    {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}], "kto_tag": 0},
])
def test_integer_kto_labels_read_as_booleans(tmp_path, row):
    path = tmp_path / "kto.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (rec,) = iter_records(str(path))
    label = row.get("label", row.get("kto_tag"))
    assert rec["kind"] == "kto" and rec["label"] is bool(label)
    out = tmp_path / "back.jsonl"
    r = wb("convert", path, "--to", {"prompt": "openai", "messages": "openai", "instruction": "alpaca",
                                      "conversations": "sharegpt"}[next(iter(row))], "-o", out)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == row  # written back as the source spelled it


def test_integer_kto_labels_in_csv_and_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_path = tmp_path / "kto.csv"
    csv_path.write_text("prompt,completion,label\nq,a,1\nq2,a2,0\n", encoding="utf-8")
    pq_path = tmp_path / "kto.parquet"
    pq.write_table(pa.table({"prompt": ["q", "q2"], "completion": ["a", "a2"], "label": [1, 0]}), pq_path)
    for path in (csv_path, pq_path):
        recs = list(iter_records(str(path)))
        assert [(r["kind"], r["label"]) for r in recs] == [("kto", True), ("kto", False)]


# -- item 12: UTF-16 named, stale temp files of killed writes ------------------------------------


@pytest.mark.parametrize("encoding, bom", [("utf-16", True), ("utf-16-le", False), ("utf-16-be", False),
                                           ("utf-32", True)])
@pytest.mark.parametrize("name", ["data.jsonl", "data.json", "data.csv"])
def test_a_utf16_file_is_named_as_such(tmp_path, encoding, bom, name):
    path = tmp_path / name
    text = "instruction,output\nq,a\n" if name.endswith(".csv") else json.dumps(ROW) + "\n"
    path.write_bytes(text.encode(encoding))
    err = _stop_error(path)
    assert err.line == 1 and f"the file is {encoding[:6].upper()}, not UTF-8" in err.message, err.message


def test_stale_temp_files_of_killed_writes_are_removed_next_time(tmp_path):
    src = tmp_path / "data.jsonl"
    src.write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process that wrote a temp file and was killed before its rename
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        stale = tmp_path / f".out.jsonl.tmp{gone.pid}"
        busy = tmp_path / f".out.jsonl.tmp{alive.pid}"  # another export writing now
        other = tmp_path / f".other.jsonl.tmp{gone.pid}"  # a temp of another file: not ours to judge
        for p in (stale, busy, other):
            p.write_text("half a file", encoding="utf-8")
        r = wb("convert", src, "--to", "alpaca", "-o", tmp_path / "out.jsonl")
        assert r.returncode == 0, r.stderr
        assert not stale.exists() and busy.exists() and other.exists()
        assert json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8")) == ROW
    finally:
        alive.kill()
        alive.wait()
