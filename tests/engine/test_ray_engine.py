"""The Ray engine gives what the local engine gives: a recipe (filter, exact dedup, MinHash
dedup, decontam) recorded on the command line and replayed with `workbench run --engine ray`
on a real local Ray instance (2 CPUs, started here, one session for the module, shut down at
its end) exports the same rows and leaves the same signals and proposals, whether the driver
reads the rows (-o FILE) or the workers read shards and write shards (-o DIR); more step
variants compare their whole Result."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray

from workbench.cli import main
from workbench.data.dataset import Dataset
from workbench.engine.base import Engine
from workbench.ops import registry
from workbench.ops.base import Context
from workbench.store.workspace import Workspace


ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000


@pytest.fixture(scope="module")
def ray_session():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    from workbench.engine.ray import RayEngine

    engine = RayEngine()  # joins the instance above: closing it leaves the instance running
    yield engine
    ray.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """ROWS generated conversations (benchmarks/make_large.py) with exact copies, near copies
    (a few words changed), refusals, empty answers and rows quoting a benchmark item."""
    tmp = tmp_path_factory.mktemp("ray")
    raw = tmp / "raw.jsonl"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_large.py"), "-o", str(raw), "-n", str(ROWS),
                    "--seed", "3"], check=True, capture_output=True)
    rows = [json.loads(line) for line in raw.read_text().splitlines()]
    rng = random.Random(5)
    for k in range(0, 300, 3):  # exact copies (other case and spacing), then near copies
        i, j = rng.randrange(ROWS), rng.randrange(ROWS)
        rows[j]["messages"] = [{**t, "content": t["content"].upper().replace(" ", "  ")} if t.get("content") else t
                               for t in rows[i]["messages"]]
        i, j = rng.randrange(ROWS), rng.randrange(ROWS)
        msgs = json.loads(json.dumps(rows[i]["messages"]))
        words = msgs[-1]["content"].split()
        for _ in range(max(1, len(words) // 20)):
            words[rng.randrange(len(words))] = "zebra"
        msgs[-1]["content"] = " ".join(words)
        rows[j]["messages"] = msgs
    for j in rng.sample(range(ROWS), 40):
        rows[j]["messages"][-1]["content"] = "As an AI language model, I cannot help with that."
    bench_items = []
    for j in rng.sample(range(ROWS), 25):
        answer = rows[j]["messages"][-1]["content"]
        bench_items.append({"question": "Q: " + " ".join(answer.split()[:20])})
    src = tmp / "data.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bench = tmp / "bench.jsonl"
    bench.write_text("".join(json.dumps(b) + "\n" for b in bench_items))
    return tmp, src, bench


@pytest.fixture(scope="module")
def recipe(data):
    tmp, src, bench = data
    common = [str(src), "--workspace", str(tmp / "session.sqlite")]
    assert main(["filter", *common]) == 0
    assert main(["dedup", *common, "--method", "exact"]) == 0
    assert main(["dedup", *common, "--method", "minhash", "--threshold", "0.6"]) == 0
    assert main(["decontam", *common, "--against", f"{bench}:question", "--ngram", "8"]) == 0
    out = tmp / "recipe.yaml"
    assert main(["recipe", *common, "-o", str(out)]) == 0
    return out


# Variants beyond the recipe's own steps (filter, exact dedup, MinHash at 0.6, decontam), which
# the recipe runs below compare through the workspace and the export.
STEPS = [
    ("dedup-exact", {"keep": "longest"}),
    ("dedup-minhash", {"threshold": 0.5, "seed": 11, "verify": "jaccard", "keep": "longest"}),
    ("decontam", {"ngram": 8}),
]


@pytest.mark.parametrize("name,params", STEPS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STEPS)])
def test_each_step_same_result(ray_session, data, name, params):
    tmp, src, bench = data
    ds = Dataset.open(src)
    op = registry.get(name)
    if name == "decontam":
        params = {**params, "against": [f"{bench}:question"]}
    p = op.params_from_dict(params)
    local = Engine().compute(op, ds, p, Context())
    on_ray = ray_session.compute(op, ds, p, Context())
    assert on_ray.signals == local.signals
    assert on_ray.rejects == local.rejects
    assert on_ray.report == local.report
    assert on_ray.summary == local.summary
    assert on_ray.params == local.params
    assert local.rejects  # the data holds something for every step to find
    if name.startswith("dedup"):
        assert len(local.report["clusters"]) >= 50


def test_selection_same_result(ray_session, data):
    """A step on selected rows (a recipe's `select`) sees only them, in their order."""
    tmp, src, bench = data
    ds = Dataset.open(src)
    rows = ds.ids[::-3]
    op = registry.get("dedup-minhash")
    p = op.params_from_dict({"threshold": 0.6})
    local = Engine().compute(op, ds, p, Context(), rows)
    assert ray_session.compute(op, ds, p, Context(), rows).report == local.report
    assert local.report["rows"] == len(rows)


@pytest.fixture(scope="module")
def shards(data):
    """The data as a directory of shards in three containers: gzip JSON Lines, JSON Lines and
    (in a sub-directory) Parquet."""
    tmp, src, bench = data
    lines = src.read_text().splitlines(keepends=True)
    third = len(lines) // 3
    d = tmp / "shards"
    (d / "sub").mkdir(parents=True)
    with gzip.open(d / "part-0.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(lines[:third])
    (d / "part-1.jsonl").write_text("".join(lines[third:2 * third]))
    pq.write_table(pa.Table.from_pylist([json.loads(line) for line in lines[2 * third:]]), d / "sub" / "part-2.parquet")
    return d


@pytest.fixture(scope="module")
def local_run(data, recipe, shards):
    """The recipe replayed on the shards by the local engine: (export text, workspace path)."""
    tmp, src, bench = data
    out, ws = tmp / "shards-local.jsonl", tmp / "shards-local.sqlite"
    assert main(["run", str(recipe), "--input", str(shards), "--workspace", str(ws), "-o", str(out)]) == 0
    text = out.read_text()
    assert 0 < len(text.splitlines()) < ROWS - 100  # every step left rows out
    return text, ws


def _results(ws_path) -> tuple[dict, dict]:
    with Workspace.open(ws_path) as w:
        return w.reasons(), {name: w.signal_values(name) for name in w.signal_names()}


def test_recipe_run_on_ray_exports_the_same_rows(ray_session, data, recipe, shards, local_run):
    """`workbench run --engine ray -o FILE`: rows read by the driver, steps on Ray."""
    tmp, src, bench = data
    out, ws = tmp / "out-ray.jsonl", tmp / "run-ray.sqlite"
    assert main(["run", str(recipe), "--input", str(shards), "--workspace", str(ws), "-o", str(out),
                 "--engine", "ray"]) == 0
    assert out.read_text() == local_run[0]
    assert _results(ws) == _results(local_run[1])
    assert ray.is_initialized()  # the run joined the module's instance and left it running


def test_shards_in_shards_out(ray_session, data, recipe, shards, local_run):
    """A directory of shards (given as globs) replayed on Ray with `-o DIR`: the workers read
    and write the rows; the shards, in name order, hold exactly the local engine's export, and
    the workspace the TUI opens for that directory holds the local run's signals and proposals."""
    tmp, src, bench = data
    out = tmp / "shards-out"
    # Globs in the order the directory walk lists the files: the same sources, so the same default workspace.
    assert main(["run", str(recipe), "--input", str(shards / "*.jsonl*"), str(shards / "**" / "*.parquet"),
                 "-o", str(out), "--engine", "ray"]) == 0
    parts = sorted(out.iterdir())
    assert [p.suffix for p in parts] == [".jsonl"] * len(parts) and len(parts) >= 3  # one per block, at least one per file
    assert "".join(p.read_text() for p in parts) == local_run[0]
    ds = Dataset.open(shards)
    with Workspace.for_dataset(ds) as opened:
        assert (opened.reasons(), {n: opened.signal_values(n) for n in opened.signal_names()}) == _results(local_run[1])
        assert len(opened.reasons()) > 100

        # The same curated rows as Parquet shards (what --shards parquet and --to parquet write).
        from workbench.engine.ray import RayInput, write_shards

        summary = write_shards(RayInput([str(shards)]), opened, "openai", str(tmp / "as-parquet"), suffix="parquet")
    again = Dataset.open(tmp / "as-parquet")
    assert summary["rows"] == len(again) == len(local_run[0].splitlines())
    assert again.texts("all") == Dataset.open(tmp / "shards-local.jsonl").texts("all")


def test_bad_row_in_a_shard_is_one_line(ray_session, data, recipe, shards, capsys):
    tmp, src, bench = data
    bad = tmp / "bad-shards"
    bad.mkdir()
    (bad / "a.jsonl").write_text(src.read_text().splitlines(keepends=True)[0] + "{not json\n")
    with pytest.raises(SystemExit) as stop:  # as every command stops on a bad input
        main(["run", str(recipe), "--input", str(bad), "-o", str(tmp / "bad-out"), "--engine", "ray",
              "--workspace", str(tmp / "bad.sqlite")])
    assert stop.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"workbench: {bad / 'a.jsonl'}:2: malformed JSON"), err
    assert not (tmp / "bad-out").exists()


def test_shards_need_ray_stages(data, tmp_path, capsys):
    """A recipe step that is not a Ray stage cannot write shards: said before anything runs."""
    tmp, src, bench = data
    recipe = tmp_path / "r.yaml"
    recipe.write_text("steps:\n  - op: filter\n  - op: template-lint\n    params: {template: chatml}\n")
    assert main(["run", str(recipe), "--input", str(src), "-o", str(tmp_path / "out"), "--engine", "ray"]) == 2
    err = capsys.readouterr().err
    assert "step 2" in err and "-o FILE" in err and not (tmp_path / "out").exists()


def test_cluster_run_result_is_compact(ray_session, data, shards):
    """Rows read by the workers: the dedup Result's signals are an iterator read once as they
    are written (the local engine's signals, all of them) and its report counts the clusters."""
    from workbench.engine.ray import RayInput

    op = registry.get("dedup-minhash")
    p = op.params_from_dict({"threshold": 0.6})
    on_ray = ray_session.compute(op, RayInput([str(shards)]), p, Context())
    local = Engine().compute(op, Dataset.open(shards), p, Context())
    assert not isinstance(on_ray.signals, list)
    signals = list(on_ray.signals)
    assert len(signals) == len(local.signals) and set(signals) == set(local.signals)
    assert on_ray.report["clusters"] == len(local.report["clusters"]) >= 50
    assert on_ray.rejects == local.rejects and on_ray.summary == local.summary
