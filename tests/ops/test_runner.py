"""engine.local.Runner: steps in background threads, bounded, with progress and cancel."""

from __future__ import annotations

import threading

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.engine.local import Runner
from workbench.ops import registry


def _ds(n):
    return Dataset.from_records([make_record(id=f"r{i}", messages=[
        {"role": "user", "content": f"please tell me about topic {i % 97} in some detail"},
        {"role": "assistant", "content": f"topic {i % 97} is a fine topic with several parts to it."}])
        for i in range(n)])


def test_runner_runs_bounded_reports_progress_and_cancels(ws):
    ds = _ds(6000)
    runner = Runner(ws, max_running=1)
    running, peak, lock = set(), [0], threading.Lock()
    seen: list[tuple[str, str, int]] = []

    def on_change(h):
        with lock:
            (running.add if h.status == "running" else running.discard)(id(h))
            peak[0] = max(peak[0], len(running))
            seen.append((h.name, h.status, h.done))

    op = registry.get("dedup-exact")
    first = runner.submit(registry.get("filter"), ds, registry.get("filter").default_params(), on_change=on_change)
    second = runner.submit(op, ds, op.default_params(), on_change=on_change)
    third = runner.submit(op, ds, op.default_params(), on_change=on_change)
    third.cancel.set()  # queued behind the others: it never runs
    assert first.wait(300).status == "done" and second.wait(300).status == "done"
    assert third.wait(300) is None and third.status == "cancelled"
    assert peak[0] == 1  # one at a time
    assert any(name == "filter" and status == "running" and done > 0 for name, status, done in seen)
    assert [h.status for h in runner.handles] == ["done", "done", "cancelled"]
    assert "run" in first.detail and first.done == 6000
    # a cancel mid-run: nothing of it saved, the run log says cancelled
    before = ws.statuses()
    op = registry.get("dedup-minhash")
    h = runner.submit(op, ds, op.params_from_dict({"chunk_size": 256}),
                      on_change=lambda h: h.done and h.cancel.set())
    h.wait(300)
    assert h.status == "cancelled" and ws.statuses() == before
    assert ws.runs()[0]["status"] == "cancelled"


def test_last_params_are_those_of_the_latest_run(ws, tmp_path):
    from workbench.engine.local import last_params, run_step

    ds = _ds(50)
    op = registry.get("filter")
    assert last_params(op, ws) is None
    tuned = op.params_from_dict({"min_chars": 60, "disable": ["unfinished"]})
    run_step(op, ds, ws, tuned)
    run_step(registry.get("dedup-exact"), ds, ws, registry.get("dedup-exact").default_params())
    assert last_params(op, ws) == tuned  # a palette run repeats the tuned CLI run, not the defaults


def test_handle_line_counts_each_stage_afresh():
    import threading

    from workbench.engine.local import Handle

    h = Handle("map", threading.Event(), total=3000)
    h.staged("loading the embedding model")
    assert h.line() == "loading the embedding model"  # no count in this stage yet
    h.staged("embedding")
    h.counted(0, 3000)
    h._since = (h._since[0] - 10.0, 0)  # the stage began 10 s ago
    h.counted(500, 3000)
    assert 45 < h.rate < 55 and 45 < h.eta < 55
    assert h.line().startswith("embedding · 500/3,000 rows · ") and "/s · eta " in h.line()
    h.staged("projecting ...")
    assert h.line() == "projecting ..." and h.rate == 0.0 and h.eta is None
