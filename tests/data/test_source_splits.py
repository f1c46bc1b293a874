"""Splits on disk are sources of their own: a save_to_disk DatasetDict (dd/train, dd/test), hub
snapshot shards (train-00000-of-00002.parquet...), split-named files (train.jsonl, test.jsonl).
`info` lists them, `--split NAME` opens one, and an export writes one file per split, so test
rows never join the training rows unless --merge-splits asks for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.data.dataset import Dataset
from workbench.data.errors import DataError
from workbench.data.splits import split_of
from workbench.store.export import export
from workbench.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
CASE = Path(__file__).parent / "cases" / "datasetdict_splits"


def wb(*args, home):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WORKBENCH_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def _rows(split, n):
    return [{"messages": [{"role": "user", "content": f"{split} question {i}"},
                          {"role": "assistant", "content": f"{split} answer {i}"}]} for i in range(n)]


def _datasetdict(tmp_path):
    import datasets

    d = datasets.DatasetDict({s: datasets.Dataset.from_list(_rows(s, n))
                              for s, n in (("train", 4), ("validation", 2), ("test", 3))})
    d.save_to_disk(str(tmp_path / "dd"))
    return tmp_path / "dd"


def _hub_snapshot(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "snap" / "data"
    data.mkdir(parents=True)
    rows = _rows("train", 6)
    for i in range(2):
        pq.write_table(pa.Table.from_pylist(rows[i * 3:(i + 1) * 3]), data / f"train-0000{i}-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(_rows("test", 2)), data / "test-00000-of-00001.parquet")
    (tmp_path / "snap" / "README.md").write_text("---\nconfigs: []\n---\n")
    return tmp_path / "snap"


def _split_files(tmp_path):
    d = tmp_path / "files"
    d.mkdir()
    for name, split, n in (("data.jsonl", "train", 3), ("test.jsonl", "test", 2)):
        (d / name).write_text("".join(json.dumps(r) + "\n" for r in _rows(split, n)))
    return d


LAYOUTS = {"datasetdict": (_datasetdict, {"train": 4, "validation": 2, "test": 3}),
           "hub": (_hub_snapshot, {"train": 6, "test": 2}),
           "files": (_split_files, {"train": 3, "test": 2})}


def _by_split(ds):
    out: dict[str, int] = {}
    for rec in ds:
        out[ds.splits[rec["source"]]] = out.get(ds.splits[rec["source"]], 0) + 1
    return out


def test_the_case_datasetdict_opens_as_one_source_per_split():
    ds = Dataset.open(CASE)
    assert [Path(s).name for s in ds.sources] == ["train", "test"]
    assert ds.name == "datasetdict_splits (train, test)"  # as the TUI shows it
    assert Dataset.open(CASE, split="test").name == "datasetdict_splits (test)"
    assert _by_split(ds) == {"train": 5, "test": 2}
    assert {r["id"].split(":")[0] for r in Dataset.open(CASE, split="test")} == {"test"}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_layout_has_its_splits_and_split_picks_one(tmp_path, layout):
    make, want = LAYOUTS[layout]
    root = make(tmp_path)
    ds = Dataset.open(root)
    assert _by_split(ds) == want
    for name, n in want.items():
        one = Dataset.open(root, split=name)
        assert len(one) == n and all(name in r["messages"][0]["content"] for r in one)
        assert one.fingerprint == ds.fingerprint  # one workspace for the dataset and its splits
    with pytest.raises(DataError, match="no split 'dev'; splits here: " + ", ".join(want)):
        Dataset.open(root, split="dev")


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_export_writes_a_file_per_split_and_merges_only_when_asked(tmp_path, layout):
    make, want = LAYOUTS[layout]
    ds = Dataset.open(make(tmp_path))
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        summary = export(ds, ws, "openai", tmp_path / "out" / "clean.jsonl")
        files = {f["split"]: Path(f["out"]) for f in summary["files"]}
        assert set(files) == set(want) and {k: f.name for k, f in files.items()} == {
            k: f"clean.{k}.jsonl" for k in want}
        for name, path in files.items():
            lines = [json.loads(x)["messages"][0]["content"] for x in path.read_text().splitlines()]
            assert len(lines) == want[name] and all(x.startswith(name) for x in lines)  # no test row in train
        merged = export(ds, ws, "openai", tmp_path / "out" / "all.jsonl", merge_splits=True)
        assert [f["rows"] for f in merged["files"]] == [sum(want.values())]
        with pytest.raises(ValueError, match="has its own splits"):
            export(ds, ws, "openai", tmp_path / "out" / "x.jsonl", test_ids={ds.ids[0]})
        with pytest.raises(ValueError, match="standard output takes one"):
            export(ds, ws, "openai", "-")


def test_a_decision_on_the_whole_applies_when_one_split_is_exported(tmp_path):
    home = tmp_path / "home"
    first_test = Dataset.open(CASE, split="test").ids[0]
    assert wb("decide", CASE, "--row", first_test, "--reject", home=home).returncode == 0
    r = wb("export", CASE, "--split", "test", "--to", "openai", "-o", tmp_path / "t.jsonl", home=home)
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 1 and "left out 1: manual" in r.stdout
    r = wb("info", CASE, "--json", home=home)
    assert json.loads(r.stdout)["splits"] == {"train": 5, "test": 2}
    r = wb("convert", CASE, "--to", "sharegpt", "-o", tmp_path / "c.jsonl", home=home)
    assert r.returncode == 1 and "holds the splits train, test" in r.stderr and not (tmp_path / "c.jsonl").exists()
    r = wb("convert", CASE, "--split", "train", "--to", "sharegpt", "-o", tmp_path / "c.jsonl", home=home)
    assert r.returncode == 0 and len((tmp_path / "c.jsonl").read_text().splitlines()) == 5


@pytest.mark.parametrize("name, split", [
    ("train-00003-of-00010.parquet", "train"), ("validation-00000-of-00001.parquet", "validation"),
    ("test.jsonl", "test"), ("dev.json.gz", "dev"), ("train/part-0.parquet", "train"),
    ("data.jsonl", None), ("contest.jsonl", None), ("trainer_notes.jsonl", None),
])
def test_split_names_follow_the_hub_conventions(tmp_path, name, split):
    assert split_of(str(tmp_path / name)) == split
