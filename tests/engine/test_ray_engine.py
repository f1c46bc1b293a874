"""The Ray engine gives what the local engine gives: a recipe (filter, exact dedup, MinHash
dedup, decontam) recorded on the command line and replayed with `workbench run --engine ray`
on a real local Ray instance (2 CPUs, started here, one session for the module) exports the
same rows, and each step's Result holds the same clusters, signals and proposals."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

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


STEPS = [
    ("filter", {}),
    ("dedup-exact", {}),
    ("dedup-minhash", {"threshold": 0.6, "seed": 7}),
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


def test_recipe_run_on_ray_exports_the_same_rows(ray_session, data, recipe, capsys):
    tmp, src, bench = data
    outs = {}
    for engine in ("local", "ray"):
        ws = tmp / f"run-{engine}.sqlite"
        out = tmp / f"out-{engine}.jsonl"
        assert main(["run", str(recipe), "--input", str(src), "--workspace", str(ws), "-o", str(out),
                     "--engine", engine]) == 0
        with Workspace.open(ws) as w:
            signals = {name: w.signal_values(name) for name in w.signal_names()}
            reasons = w.reasons()
        outs[engine] = (out.read_text(), signals, reasons)
    assert outs["ray"][0] == outs["local"][0]
    assert outs["ray"][1] == outs["local"][1]
    assert outs["ray"][2] == outs["local"][2]
    kept = len(outs["local"][0].splitlines())
    assert 0 < kept < ROWS - 100  # every step left rows out
    assert ray.is_initialized()  # the run joined the module's instance and left it running
