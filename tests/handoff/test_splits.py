"""Train/test splits: disjoint, of the asked size, stratified by source, never splitting an
exact-duplicate cluster, and the same for the same seed."""

from __future__ import annotations

import json

from workbench.cli import main


def _write(path, n, prefix, dup_every=0):
    rows = []
    for i in range(n):
        q = f"{prefix} question {i // 2 if dup_every and i % dup_every < 2 else i}"
        rows.append({"instruction": q, "input": "", "output": f"answer to {q}"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def _read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _export(tmp_path, *extra):
    return main(["export", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--to", "alpaca",
                 "-o", str(tmp_path / "out" / "data.jsonl"), "--workspace", str(tmp_path / "ws.sqlite"), *extra])


def test_split_is_disjoint_stratified_and_reproducible(tmp_path):
    _write(tmp_path / "a.jsonl", 80, "alpha")
    _write(tmp_path / "b.jsonl", 20, "beta")
    assert _export(tmp_path, "--test-size", "0.25", "--seed", "7") == 0
    train = _read(tmp_path / "out" / "data.train.jsonl")
    test = _read(tmp_path / "out" / "data.test.jsonl")
    assert len(test) == 25 and len(train) == 75
    assert not {r["instruction"] for r in train} & {r["instruction"] for r in test}
    # Each source gives the test side its share: 20 of 80 and 5 of 20.
    assert sum(r["instruction"].startswith("alpha") for r in test) == 20
    assert sum(r["instruction"].startswith("beta") for r in test) == 5
    first = [r["instruction"] for r in test]
    assert _export(tmp_path, "--test-size", "0.25", "--seed", "7") == 0
    assert [r["instruction"] for r in _read(tmp_path / "out" / "data.test.jsonl")] == first
    assert _export(tmp_path, "--test-size", "0.25", "--seed", "8") == 0
    assert [r["instruction"] for r in _read(tmp_path / "out" / "data.test.jsonl")] != first


def test_exact_duplicates_stay_on_one_side(tmp_path):
    # Rows 0/1, 4/5, 8/9 ... are the same question, spelled with other case and spacing.
    rows = _write(tmp_path / "a.jsonl", 60, "alpha", dup_every=4)
    for i, r in enumerate(rows):
        if i % 4 == 1:
            r["instruction"] = "  " + r["instruction"].upper()
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _write(tmp_path / "b.jsonl", 10, "beta")
    for seed in range(5):
        assert _export(tmp_path, "--test-rows", "17", "--seed", str(seed)) == 0
        train = {r["instruction"].strip().casefold() for r in _read(tmp_path / "out" / "data.train.jsonl")}
        test = {r["instruction"].strip().casefold() for r in _read(tmp_path / "out" / "data.test.jsonl")}
        assert not train & test, seed


def test_bad_split_sizes_are_clear_errors(tmp_path, capsys):
    _write(tmp_path / "a.jsonl", 5, "alpha")
    _write(tmp_path / "b.jsonl", 5, "beta")
    assert _export(tmp_path, "--test-size", "1.5") == 1
    assert "fraction between 0 and 1" in capsys.readouterr().err
    assert _export(tmp_path, "--test-rows", "10") == 1
    assert "between 1 and 9" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
