"""The Arrow-backed Dataset over canonical records (independent of any file format)."""

from __future__ import annotations

import json

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record, view_text


def _records(n: int):
    for i in range(n):
        yield make_record(
            id=f"r{i}",
            kind="preference" if i % 3 == 0 else "sft",
            system="be brief" if i % 2 else None,
            messages=[{"role": "user", "content": f"question {i}"}]
            + ([] if i % 3 == 0 else [{"role": "assistant", "content": f"answer {i} " * (i % 5)}]),
            chosen=[{"role": "assistant", "content": "good"}] if i % 3 == 0 else None,
            rejected=[{"role": "assistant", "content": "bad"}] if i % 3 == 0 else None,
            meta={"score": i, "nested": {"k": [1, 2]}},
            source="mem.jsonl",
            row=i,
        )


def test_records_round_trip_through_arrow():
    recs = list(_records(10_000))  # spans several Arrow batches
    ds = Dataset.from_records(recs)
    assert len(ds) == 10_000
    assert ds.record(0) == recs[0]
    assert ds.record(9_999) == recs[9_999]
    assert ds.records(4095, 4098) == recs[4095:4098]
    assert list(ds) == recs


def test_derived_columns_and_ids():
    recs = list(_records(7))
    ds = Dataset.from_records(recs)
    assert ds.ids == [r["id"] for r in recs]
    assert ds.index_of("r5") == 5
    with pytest.raises(KeyError):
        ds.index_of("nope")
    assert ds.column("length") == [len(view_text(r)) for r in recs]
    assert ds.column("n_turns")[0] == 2  # one prompt turn + one chosen turn
    assert ds.column("preview")[1] == "question 1"


def test_empty_dataset_and_bounds():
    ds = Dataset.from_records([])
    assert len(ds) == 0
    assert ds.records() == []
    with pytest.raises(IndexError):
        ds.record(0)


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown kind"):
        make_record(id="x", kind="chat")


def test_a_first_conversion_hands_its_rows_to_a_viewer(tmp_path, monkeypatch):
    """Dataset.open's `converted`: called with each converted batch's list columns and its first
    row's dataset index while a file converts (the TUI shows them), never when the conversion
    is cached."""
    from workbench.data.dataset import BATCH_ROWS, VIEW_ROW_FIELDS, Dataset

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"question  {i}"},
                                                     {"role": "assistant", "content": f"answer {i}"}]}) + "\n"
                            for i in range(BATCH_ROWS + 500)))
    seen: list[tuple[int, list[dict]]] = []
    hand = lambda start, batch: seen.append((start, batch.to_pylist()))  # noqa: E731
    ds = Dataset.open(path, converted=hand)
    assert [(start, len(rows)) for start, rows in seen] == [(0, BATCH_ROWS), (BATCH_ROWS, 500)]
    assert seen[0][1] + seen[1][1] == ds.table.select(list(VIEW_ROW_FIELDS)).to_pylist()
    assert seen[1][1][3]["preview"] == f"question {BATCH_ROWS + 3}" and seen[1][1][3]["n_turns"] == 2
    Dataset.open(path, converted=hand)  # cached: nothing is converted, nothing handed
    assert len(seen) == 2


def test_records_at_gives_the_rows_asked_for_in_that_order():
    recs = [make_record(id=f"r{i}", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(10)]
    ds = Dataset.from_records(recs)
    got = ds.records_at([7, 2, 2, 9])
    assert [r["id"] for r in got] == ["r7", "r2", "r2", "r9"]
    assert got[0] == ds.record(7)
    assert ds.records_at([]) == []
    with pytest.raises(IndexError):
        ds.records_at([10])


def test_arrow_buffers_come_from_the_system_allocator_unless_one_is_chosen():
    """workbench picks pyarrow's system pool (lower peak memory on a conversion, see
    workbench/__init__.py), and a pool the user chose stays."""
    import os
    import subprocess
    import sys

    code = "import workbench, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    picked = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert picked.stdout.strip() == "system"
    chosen = subprocess.run([sys.executable, "-c", code], env={**env, "ARROW_DEFAULT_MEMORY_POOL": "mimalloc"},
                            capture_output=True, text=True, check=True)
    assert chosen.stdout.strip() == "mimalloc"
