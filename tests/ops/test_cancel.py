"""Cancel of each long operation, mid-run: nothing of that run is saved (no signals, no
proposals, earlier proposals intact) and the run log says "cancelled"."""

from __future__ import annotations

import json

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.engine.local import run_step
from tests.support.loopback import LoopbackServer
from workbench.ops import registry
from workbench.ops.base import Context


def _ds(n):
    words = "red green blue cyan magenta yellow black white grey pink".split()
    return Dataset.from_records([make_record(id=f"r{i}", messages=[
        {"role": "user", "content": " ".join(words[(i * k) % 10] for k in range(1, 15)) + f" {i % 50}?"},
        {"role": "assistant", "content": "I'm sorry, but I cannot do that." if i % 7 == 0 else
         " ".join(words[(i + k) % 10] for k in range(20)) + f" {i % 50}."}]) for i in range(n)])


def _cancel_after_first_progress():
    ctx = Context()
    ctx.progress = lambda done, total: ctx.cancel.set()
    ctx.on_event = lambda ev: ctx.cancel.set()
    return ctx


@pytest.mark.parametrize("name,params,n", [
    ("filter", {}, 5000),
    ("dedup-exact", {}, 9000),
    ("dedup-minhash", {"chunk_size": 256}, 3000),
    ("decontam", None, 9000),
])
def test_cancelled_dataset_operation_saves_nothing(ws, tmp_path, name, params, n):
    ds = _ds(n)
    op = registry.get(name)
    if params is None:
        bench = tmp_path / "b.jsonl"
        bench.write_text(json.dumps({"q": ds.record(3)["messages"][1]["content"]}) + "\n")
        params = {"against": [str(bench)], "ngram": 8}
    p = op.params_from_dict(params)
    # an earlier complete run of the same operation: its proposals must stay
    done = run_step(op, ds, ws, p)
    assert done.status == "done"
    before = ws.statuses()
    signals_before = {n_: ws.signal_values(n_) for n_ in ws.signal_names()}
    out = run_step(op, ds, ws, p, ctx=_cancel_after_first_progress())
    assert out.status == "cancelled" and out.run_id is None
    assert ws.statuses() == before
    assert {n_: ws.signal_values(n_) for n_ in ws.signal_names()} == signals_before
    assert [r["status"] for r in ws.runs()][:2] == ["cancelled", "done"]


def test_cancelled_llm_job_saves_nothing(ws):
    rows = [make_record(id=f"q{i}", messages=[{"role": "user", "content": f"question {i}"},
                                              {"role": "assistant", "content": f"answer {i}"}]) for i in range(40)]
    ds = Dataset.from_records(rows)
    op = registry.get("generate-cot")
    with LoopbackServer(lambda m: "Step one. Step two. Step three. So the answer stands.") as srv:
        p = op.params_from_dict({"model": "openai/loopback", "api_base": srv.api_base, "concurrency": 1,
                                 "retries": 0})
        out = run_step(op, ds, ws, p, ctx=_cancel_after_first_progress())
    assert out.status == "cancelled"
    assert ws.signal_values("generated") == {} and ws.signal_values("rewrite.cot") == {}
    assert ws.runs()[0]["status"] == "cancelled"
