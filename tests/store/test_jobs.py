"""The job runner: concurrency, per-row failures, events, cancel and resume."""

from __future__ import annotations

import threading
import time

import pytest

from workbench.store.jobs import JobEvent, JobRunner, run_job


ITEMS = [(f"r{i}", i) for i in range(40)]


def test_results_counts_and_row_failures(ws):
    def fn(x):
        if x % 10 == 3:
            raise ValueError(f"bad {x}")
        return {"double": 2 * x}

    events: list[JobEvent] = []
    res = run_job(ws, "double", ITEMS, fn, params={"k": 1}, concurrency=3, on_event=events.append)
    assert res.status == "done"
    assert (res.ok, res.failed, res.skipped) == (36, 4, 0)
    assert list(res.results) == [rid for rid, x in ITEMS if x % 10 != 3]  # in item order
    assert res.results["r5"] == {"double": 10}
    assert res.errors == {f"r{x}": f"ValueError: bad {x}" for x in (3, 13, 23, 33)}
    assert "ValueError: bad 13" in ws.job_errors(res.job_id)["r13"]  # with its traceback
    last = events[-1]
    assert (last.status, last.done, last.total, last.ok, last.failed, last.eta) == ("done", 40, 40, 36, 4, 0.0)
    assert events[0].status == "running" and last.rate > 0
    run = ws.run(res.job_id)
    assert run["status"] == "done" and run["counts"] == {"ok": 36, "failed": 4, "skipped": 0, "total": 40}


def test_concurrency_is_bounded(ws):
    active, peak, lock = [0], [0], threading.Lock()

    def fn(x):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.005)
        with lock:
            active[0] -= 1
        return x

    res = run_job(ws, "sleepy", ITEMS, fn, concurrency=3)
    assert res.ok == 40 and 1 <= peak[0] <= 3


def test_every_row_failing_is_a_failed_job_not_an_empty_result(ws):
    res = run_job(ws, "broken", ITEMS[:5], lambda x: 1 / 0)
    assert res.status == "failed" and res.failed == 5 and res.results == {}
    assert ws.run(res.job_id)["status"] == "failed"


def test_result_json_cannot_hold_fails_its_row(ws):
    res = run_job(ws, "objects", ITEMS[:3], lambda x: object() if x == 1 else x, concurrency=1)
    assert res.status == "done" and res.results == {"r0": 0, "r2": 2}
    assert res.errors["r1"].startswith("TypeError") and "JSON serializable" in res.errors["r1"]


def test_cancel_then_resume_skips_finished_rows(ws):
    cancel = threading.Event()
    calls: list[str] = []

    def fn(x):
        calls.append(x)
        if len(calls) >= 10:  # not ==: both workers may append before either reads the length
            cancel.set()
        return x * x

    first = run_job(ws, "square", ITEMS, fn, params={"p": 1}, concurrency=2, cancel=cancel)
    assert first.status == "cancelled" and 10 <= first.ok < 40
    assert ws.run(first.job_id)["status"] == "cancelled"
    done_before = set(first.results)

    calls.clear()
    second = run_job(ws, "square", ITEMS, fn, params={"p": 1}, concurrency=2)
    assert second.job_id == first.job_id and second.status == "done"
    assert second.skipped == len(done_before)
    assert {f"r{x}" for x in calls} == {rid for rid, _ in ITEMS} - done_before  # only the missing rows
    assert second.results == {rid: x * x for rid, x in ITEMS}

    # a finished job with the same name + params starts afresh; other params are another job
    third = run_job(ws, "square", ITEMS[:2], fn, params={"p": 1})
    assert third.job_id != first.job_id and third.skipped == 0
    assert run_job(ws, "square", ITEMS[:2], fn, params={"p": 2}).job_id not in (first.job_id, third.job_id)


def test_resume_retries_failed_rows(ws):
    flaky = {"r1"}

    cancel = threading.Event()

    def fn(x):
        if f"r{x}" in flaky:
            raise RuntimeError("transient")
        if x == 2 and not cancel.is_set() and flaky:
            cancel.set()  # r2 is interrupted by the cancel: not run, undone
            raise RuntimeError("cancelled")
        return x

    first = run_job(ws, "flaky", ITEMS[:3], fn, concurrency=1, cancel=cancel)
    assert (first.ok, first.failed, first.status) == (1, 1, "cancelled")
    flaky.clear()
    second = run_job(ws, "flaky", ITEMS[:3], fn)
    assert second.status == "done" and second.results == {"r0": 0, "r1": 1, "r2": 2}
    assert second.skipped == 1 and second.ok == 2 and ws.job_errors(second.job_id) == {}


def test_duplicate_row_ids_are_refused(ws):
    with pytest.raises(ValueError, match="duplicate row ids"):
        run_job(ws, "dup", [("a", 1), ("a", 2)], lambda x: x)


def test_job_runner_background_events_and_cancel(ws):
    runner = JobRunner(ws, max_jobs=1)
    seen: list[JobEvent] = []
    runner.subscribe(seen.append)
    gate = threading.Event()

    def slow(x):
        gate.wait(10)
        return x

    a = runner.submit("slow", ITEMS[:20], slow, concurrency=2)
    b = runner.submit("fast", ITEMS[:5], lambda x: -x)
    time.sleep(0.05)
    assert not a.done and not b.done  # b waits for a's slot
    a.cancel()
    gate.set()
    ra, rb = a.wait(10), b.wait(10)
    assert ra.status == "cancelled" and ra.ok < 20
    assert rb.status == "done" and rb.results == {rid: -x for rid, x in ITEMS[:5]}
    assert a.events.status == "cancelled" and b.events.status == "done" and b.job_id == rb.job_id
    assert {e.name for e in seen} == {"slow", "fast"}


def test_job_runner_reports_a_job_that_could_not_run(ws):
    runner = JobRunner(ws)
    job = runner.submit("bad", [("a", 1), ("a", 2)], lambda x: x)
    with pytest.raises(RuntimeError, match="duplicate row ids"):
        job.wait(10)


def test_job_cancelled_while_queued_ends_as_a_cancelled_run(ws):
    runner = JobRunner(ws, max_jobs=1)
    gate = threading.Event()
    first = runner.submit("blocker", ITEMS[:1], lambda x: gate.wait(10))
    queued = runner.submit("queued", ITEMS[:5], lambda x: x)
    queued.cancel()
    gate.set()
    assert first.wait(10).status == "done"
    res = queued.wait(10)
    assert (res.status, res.ok, res.results) == ("cancelled", 0, {})
    assert ws.run(res.job_id)["status"] == "cancelled"


def test_a_broken_subscriber_does_not_stop_the_job(ws):
    def bad(ev):
        raise RuntimeError("subscriber bug")

    res = run_job(ws, "robust", ITEMS, lambda x: x, on_event=bad)
    assert res.status == "done" and res.ok == 40


def test_a_live_job_lists_as_running_not_interrupted(ws):
    held, gate = threading.Event(), threading.Event()

    def fn(x):
        held.set()
        gate.wait(30)
        return x

    runner = JobRunner(ws)
    job = runner.submit("held", [("r0", 0)], fn)
    try:
        assert held.wait(30)
        assert ws.runs()[0]["op"] == "held" and ws.runs()[0]["status"] == "running"  # its process is this one
    finally:
        gate.set()
    assert job.wait(30).status == "done" and ws.runs()[0]["status"] == "done"


def test_rows_finishing_together_all_show_before_the_next_one(ws):
    """A batch of rows ending at once (the local model's batches) then a long wait: the events
    count every finished row within the event interval, not only the first of the batch."""
    gate, release = threading.Barrier(4), threading.Event()
    events: list[JobEvent] = []

    def fn(x):
        if x >= 4:
            release.wait(10)
        else:
            gate.wait(10)  # the first four finish together
        return x

    t = threading.Thread(target=run_job, args=(ws, "batch", [(f"r{i}", i) for i in range(8)], fn),
                         kwargs={"concurrency": 8, "on_event": events.append})
    t.start()
    deadline = time.monotonic() + 5
    while not (events and events[-1].done == 4) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert events[-1].done == 4 and events[-1].status == "running"
    release.set()
    t.join(10)
    assert events[-1].done == 8 and events[-1].status == "done"
    assert [e.status for e in events].count("done") == 1 and events[-2].status == "running"


def test_a_row_interrupted_by_the_cancel_is_not_run(ws):
    """A row whose fn raises because the job was cancelled (the local model abandoning a
    generation) is neither a result nor a failure: it runs again on resume."""
    cancel, started = threading.Event(), threading.Event()

    def fn(x):
        if x == 1:
            started.set()
            cancel.wait(10)
            raise RuntimeError("cancelled")
        return x

    t0 = time.monotonic()
    threading.Timer(0.0, lambda: started.wait(10) and cancel.set()).start()
    res = run_job(ws, "interrupt", [("a", 0), ("b", 1)], fn, concurrency=2, cancel=cancel)
    assert time.monotonic() - t0 < 5
    assert res.status == "cancelled" and res.errors == {} and "b" not in res.results
    assert ws.job_errors(res.job_id) == {}
    again = run_job(ws, "interrupt", [("a", 0), ("b", 1)], lambda x: x, concurrency=2)
    assert again.status == "done" and again.skipped in (0, 1) and again.results == {"a": 0, "b": 1}
