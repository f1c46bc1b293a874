"""Export applies decisions: exactly the right rows, with the reasons for what was left out."""

from __future__ import annotations

import json

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.store.export import export
from workbench.store.workspace import Workspace


def _ds(n=10) -> Dataset:
    return Dataset.from_records(
        make_record(id=f"r{i}", messages=[{"role": "user", "content": f"question {i}"},
                                          {"role": "assistant", "content": f"answer {i}"}])
        for i in range(n)
    )


def _questions(path) -> list[int]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [int(r["messages"][0]["content"].split()[1]) for r in rows]


@pytest.fixture
def decided(tmp_path):
    ws = Workspace.open(tmp_path / "ws.sqlite")
    ws.decide("r1", "reject", note="wrong")
    dedup = ws.start_run("dedup-exact", {})
    ws.propose(dedup, ["r2", "r3"], "reject", reason="duplicate of r0")
    ws.decide("r3", "accept")  # a person overrides the operation
    filt = ws.start_run("filter", {"max_len": 5})
    ws.propose(filt, ["r4", "r5"], "reject", reason="too long")
    ws.decide_many(["r5", "r6"], "accept")
    ws.decide("r7", "pending")
    yield ws
    ws.close()


def test_not_rejected_keeps_exactly_the_right_rows(tmp_path, decided):
    out = tmp_path / "out" / "clean.jsonl"
    s = export(_ds(), decided, "openai", out)
    assert _questions(out) == [0, 3, 5, 6, 7, 8, 9]
    assert (s["rows"], s["total"], s["only"], s["format"]) == (7, 10, "not-rejected", "openai")
    assert s["left_out"] == {"dedup-exact": 1, "filter": 1, "manual": 1}
    assert not list(out.parent.glob(".*tmp*"))  # no temp file left behind


def test_accepted_only(tmp_path, decided):
    out = tmp_path / "accepted.jsonl"
    s = export(_ds(), decided, "openai", out, only="accepted")
    assert _questions(out) == [3, 5, 6]
    assert s["left_out"] == {"not accepted": 4, "dedup-exact": 1, "filter": 1, "manual": 1}


def test_undo_changes_the_export(tmp_path, decided):
    decided.undo()  # r7 pending
    decided.undo()  # r5, r6 accepted: r5 falls back to the filter's proposal
    s = export(_ds(), decided, "openai", tmp_path / "o.jsonl")
    assert _questions(tmp_path / "o.jsonl") == [0, 3, 6, 7, 8, 9]
    assert s["left_out"]["filter"] == 2


def test_no_decisions_exports_everything_in_other_formats(tmp_path):
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        s = export(_ds(4), ws, "sharegpt", tmp_path / "all.json")
        assert s["rows"] == 4 and s["left_out"] == {}
        assert len(json.loads((tmp_path / "all.json").read_text())) == 4
        s = export(_ds(4), ws, "parquet", tmp_path / "all.parquet")
        import pyarrow.parquet as pq

        assert s["rows"] == 4 and pq.read_table(tmp_path / "all.parquet").num_rows == 4


def test_bad_only_is_refused(tmp_path):
    with Workspace.open(tmp_path / "ws.sqlite") as ws, pytest.raises(ValueError, match="only must be"):
        export(_ds(2), ws, "openai", tmp_path / "x.jsonl", only="everything")
