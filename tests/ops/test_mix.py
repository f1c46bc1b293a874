"""Data mixing: the asked proportions within one row per group, up-sampling that repeats rows
and says so, temperature sampling, reproducible draws, and export writing the mixture."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from workbench.data.dataset import Dataset
from workbench.ops import registry
from workbench.ops.base import Context, ParamError, apply_result
from workbench.store.export import export
from workbench.store.workspace import Workspace


def _source(path, n, tag):
    path.write_text("".join(json.dumps({"instruction": f"{tag} task {i}", "input": "", "output": f"{tag} answer {i}"}) + "\n"
                            for i in range(n)))
    return str(path)


@pytest.fixture
def tok_dir(tmp_path):
    """A real tokenizer folder (a word-level vocabulary), so token counts are exact and quick."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    folder = tmp_path / "tok"
    folder.mkdir()
    tok.save(str(folder / "tokenizer.json"))
    return f"tokenizer:{folder}"


@pytest.fixture
def two_sources(tmp_path):
    return Dataset.open([_source(tmp_path / "big.jsonl", 60, "big"), _source(tmp_path / "small.jsonl", 10, "small")])


def _run(ds, ws, **params):
    op = registry.get("mix")
    result = op.run(ds, op.params_from_dict(params), Context(ws=ws))
    apply_result(ws, result)
    return result


def test_weights_give_the_asked_proportions_and_upsampling_is_reported(tmp_path, two_sources, tok_dir):
    with Workspace.for_dataset(two_sources, tmp_path / "ws.sqlite") as ws:
        result = _run(two_sources, ws, weights=["big:1", "small.jsonl:1"], total=40, tokenizer=tok_dir)
        comp = result.report["composition"]
        big, small = (next(v for k, v in comp.items() if k.endswith(name)) for name in ("big.jsonl", "small.jsonl"))
        assert big["rows"] == 20 and small["rows"] == 20
        assert big["tokens"] == 20 * 6 and small["tokens"] == 20 * 6  # "big task i" + "big answer i"
        assert list(result.report["repeated"].values()) == [10]  # small had 10 rows for 20 places
        out = tmp_path / "mix.jsonl"
        summary = export(two_sources, ws, "alpaca", out)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert summary["rows"] == 40 and len(rows) == 40
        counts = Counter(r["instruction"].split()[0] for r in rows)
        assert counts == {"big": 20, "small": 20}
        assert Counter(r["instruction"] for r in rows if r["instruction"].startswith("small")) == \
            {f"small task {i}": 2 for i in range(10)}
        assert summary["left_out"] == {"mix": 40}  # rows not drawn, by the operation that left them out


def test_temperature_flattens_towards_uniform_and_draws_are_reproducible(tmp_path, two_sources):
    with Workspace.for_dataset(two_sources, tmp_path / "ws.sqlite") as ws:
        natural = _run(two_sources, ws, total=35, temperature=1.0, tokenizer="none").report["composition"]
        assert sorted(c["rows"] for c in natural.values()) == [5, 30]
        whole = _run(two_sources, ws, total=70, temperature=1.0, tokenizer="none").report
        assert whole["repeated"] == {}  # every row once: nothing is repeated
        flat = _run(two_sources, ws, total=35, temperature=100.0, tokenizer="none").report["composition"]
        assert sorted(c["rows"] for c in flat.values()) == [17, 18]
        a = _run(two_sources, ws, total=20, seed=3, tokenizer="none")
        b = _run(two_sources, ws, total=20, seed=3, tokenizer="none")
        c = _run(two_sources, ws, total=20, seed=4, tokenizer="none")
        assert a.rejects == b.rejects and a.rejects != c.rejects


def test_mix_by_kind_and_bad_parameters(tmp_path, two_sources):
    op = registry.get("mix")
    with pytest.raises(ParamError, match="GROUP:WEIGHT"):
        op.params_from_dict({"weights": ["big"]})
    with pytest.raises(ParamError, match="temperature"):
        op.params_from_dict({"temperature": 0})
    with Workspace.for_dataset(two_sources, tmp_path / "ws.sqlite") as ws:
        with pytest.raises(ParamError, match="no source called 'nope'"):
            op.run(two_sources, op.params_from_dict({"weights": ["nope:1"], "tokenizer": "none"}), Context(ws=ws))
        with pytest.raises(ParamError, match="topic map"):
            op.run(two_sources, op.params_from_dict({"by": "topic", "tokenizer": "none"}), Context(ws=ws))
        result = op.run(two_sources, op.params_from_dict({"by": "kind", "total": 7, "tokenizer": "none"}), Context(ws=ws))
        assert result.report["composition"]["sft"]["rows"] == 7 and len(result.rejects) == 63


def test_a_later_smaller_mix_replaces_the_copies_of_an_earlier_one(tmp_path, two_sources):
    from workbench.explore.stats import composition
    from workbench.store.export import mix_copies

    with Workspace.for_dataset(two_sources, tmp_path / "ws.sqlite") as ws:
        _run(two_sources, ws, total=140, tokenizer="none")  # every row twice
        _run(two_sources, ws, total=7, tokenizer="none")
        copies = mix_copies(ws)
        assert sum(copies.values()) == 7  # not the first mix's 140 on rows this one left out
        undrawn = next(rid for rid in two_sources.ids if rid not in copies)
        ws.decide(undrawn, "accept")  # a person keeps a row the mix did not draw: it is written once
        assert export(two_sources, ws, "alpaca", tmp_path / "o.jsonl")["rows"] == 8
        comp = composition(two_sources, ws)
        assert comp["total"] == 7 and sum(c["rows"] for c in comp["groups"].values()) == 7


def test_a_mix_made_on_another_version_of_the_source_is_not_repeated(tmp_path):
    src = tmp_path / "a.jsonl"
    _source(src, 4, "a")
    ds = Dataset.open([str(src)])
    with Workspace.for_dataset(ds, tmp_path / "ws.sqlite") as ws:
        _run(ds, ws, total=8, tokenizer="none")  # every row twice
        assert export(ds, ws, "alpaca", tmp_path / "o.jsonl")["rows"] == 8
    src.write_text(src.read_text() + json.dumps({"instruction": "new", "input": "", "output": "row"}) + "\n")
    ds = Dataset.open([str(src)])
    with Workspace.for_dataset(ds, tmp_path / "ws.sqlite") as ws:
        summary = export(ds, ws, "alpaca", tmp_path / "o.jsonl")
    assert summary["rows"] == 5  # the edit withdrew the mix: each row once


def test_mix_command_takes_path_weights_and_writes_the_mixture(tmp_path, capsys):
    from workbench.cli import main

    a, b = _source(tmp_path / "a.jsonl", 12, "a"), _source(tmp_path / "b.jsonl", 12, "b")
    out = tmp_path / "mix.jsonl"
    assert main(["mix", f"{a}:3", f"{b}:1", "--total", "16", "--tokenizer", "none", "-o", str(out),
                 "--workspace", str(tmp_path / "ws.sqlite")]) == 0
    printed = capsys.readouterr().out
    assert "a.jsonl: 12 rows of 12 (75.0%)" in printed and "b.jsonl: 4 rows of 12 (25.0%)" in printed
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert Counter(r["instruction"].split()[0] for r in rows) == {"a": 12, "b": 4}
    # The run is logged like any operation's, so a recipe replays the same mixture.
    from workbench.store.workspace import Workspace as W

    with W.open(tmp_path / "ws.sqlite") as ws:
        run = next(r for r in ws.runs() if r["op"] == "mix")
    assert run["params"]["weights"] == ["a.jsonl:3", "b.jsonl:1"] and run["params"]["total"] == 16


def test_ids_shared_by_two_sources_are_refused(tmp_path):
    # Rows with their own "id" field, the same in both files: a mix (decisions by id) cannot tell them apart.
    for name in ("a", "b"):
        (tmp_path / f"{name}.jsonl").write_text("".join(
            json.dumps({"id": f"r{i}", "instruction": f"{name} task {i}", "input": "", "output": "x"}) + "\n"
            for i in range(3)))
    ds = Dataset.open([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    with Workspace.for_dataset(ds, tmp_path / "ws.sqlite") as ws:
        with pytest.raises(ValueError, match="row id 'r0' names two rows .a.jsonl and b.jsonl."):
            registry.get("mix").run(ds, registry.get("mix").params_from_dict({"total": 4, "tokenizer": "none"}),
                                    Context(ws=ws))
