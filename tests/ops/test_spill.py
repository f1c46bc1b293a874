"""Exact dedup and decontamination with a hash set bigger than the memory budget: forced to a
budget of a few dozen keys, they spill their keys to disk partitioned by hash and give the same
clusters, hits, signals and proposals as the in-memory pass (workbench.ops.spill)."""

from __future__ import annotations

import json
import random
import tempfile

import pytest

from workbench.cli import main
from workbench.ops.decontam import NgramIndex, decontaminate, parse_against
from workbench.ops.dedup_exact import ExactParams, exact_dedup
from workbench.ops.spill import max_keys
from workbench.store.workspace import Workspace

WORDS = [f"w{i}" for i in range(400)]


@pytest.fixture
def spill_dir(tmp_path, monkeypatch):
    """The spill files go here (tempfile's folder), so the test sees that they are removed."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def _texts(n: int, seed: int = 1) -> list[str]:
    """Random sentences, a third of them repeated with other case and spacing."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        if out and i % 3 == 0:
            out.append("  " + rng.choice(out).upper().replace(" ", "   "))
        else:
            out.append(" ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12))))
    return out


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_exact_dedup_spilled_equals_in_memory(spill_dir, keep):
    texts = _texts(3000)
    groups = [i % 3 for i in range(len(texts))]  # KTO groups: never duplicates across groups
    p = ExactParams(keep=keep)
    in_memory = exact_dedup(texts, p, groups=groups)
    spilled = exact_dedup(texts, p, groups=groups, max_keys=40)  # 75 partitions
    assert spilled == in_memory
    assert len(in_memory) > 150 and sum(len(c.members) for c in in_memory) > 400
    assert not any(spill_dir.iterdir())  # the partitions are gone


def test_decontam_spilled_index_equals_in_memory(tmp_path, spill_dir):
    rng = random.Random(2)
    items = [" ".join(rng.choice(WORDS) for _ in range(rng.choice([4, 20, 50]))) for _ in range(150)]
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps({"q": t}) + "\n" for t in items))
    texts = [" ".join(rng.choice(WORDS) for _ in range(50)) + (" " + rng.choice(items) if i % 9 == 0 else "")
             for i in range(1500)]
    ids = [f"r{i}" for i in range(len(texts))]
    memory = NgramIndex([parse_against(f"{bench}:q")], n=8)
    with NgramIndex([parse_against(f"{bench}:q")], n=8, max_keys=200) as spilled:
        assert spilled.spilled.parts > 10 and not spilled.tables
        assert len(spilled) == len(memory) > 2000
        a, b = decontaminate(texts, ids, memory), decontaminate(texts, ids, spilled)
    assert (b.signals, b.rejects, b.report, b.summary) == (a.signals, a.rejects, a.report, a.summary)
    assert len(a.rejects) > 100
    assert {h["rule"] for h in a.report["hits"]} == {"ngram", "short_item"}
    assert not any(spill_dir.iterdir())


def test_cli_budget_from_the_environment(tmp_path, spill_dir, monkeypatch):
    """WORKBENCH_MAX_KEYS reaches the operations run from the command line: the same
    workspace signals and proposals with a 50-key budget as without one."""
    rows = [{"messages": [{"role": "user", "content": t}, {"role": "assistant", "content": t[::-1]}]}
            for t in _texts(1200, seed=3)]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bench = tmp_path / "b.jsonl"
    bench.write_text("".join(json.dumps({"q": r["messages"][0]["content"]}) + "\n" for r in rows[5:400:7]))
    outcome = {}
    for budget in (None, "50"):
        if budget:
            monkeypatch.setenv("WORKBENCH_MAX_KEYS", budget)
        ws = tmp_path / f"ws-{budget}.sqlite"
        common = [str(data), "--workspace", str(ws)]
        assert main(["dedup", *common, "--method", "exact"]) == 0
        assert main(["decontam", *common, "--against", f"{bench}:q", "--ngram", "5"]) == 0
        with Workspace.open(ws) as w:
            outcome[budget] = (w.reasons(), {n: w.signal_values(n) for n in w.signal_names()})
    assert outcome["50"] == outcome[None]
    assert sum(1 for s, op in outcome[None][0].values() if op == "dedup-exact") > 200
    assert sum(1 for s, op in outcome[None][0].values() if op == "decontam") > 20


def test_budget_must_be_a_positive_integer(monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAX_KEYS", "lots")
    with pytest.raises(ValueError, match="WORKBENCH_MAX_KEYS"):
        max_keys()
