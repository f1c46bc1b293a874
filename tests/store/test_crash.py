"""SIGKILL at a random moment: reported decisions survive, and killed jobs resume."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from workbench.store.jobs import job_key, run_job
from workbench.store.workspace import Workspace

DECIDER = r"""
import sys
from workbench.store.workspace import Workspace
ws = Workspace.open(sys.argv[1])
print("ready", flush=True)
i = 0
while i < 10_000:
    if i % 97 == 0:  # now and then a bulk step, reported only once it returned
        ids = [f"r{j}" for j in range(i, min(i + 25, 10_000))]
        ws.decide_many(ids, "reject", note="bulk")
        print(*ids, flush=True)
        i += len(ids)
    else:
        ws.decide(f"r{i}", "accept" if i % 2 else "pending", note=f"n{i}")
        print(f"r{i}", flush=True)
        i += 1
print("finished", flush=True)
"""


@pytest.mark.parametrize("seed", range(20))
def test_sigkill_never_loses_a_reported_decision(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / "ws.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", DECIDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    reported: list[str] = []
    kill_after = rng.randrange(1, 6000)
    finished = False
    for line in proc.stdout:  # kill while it is still writing, after a random number of reports
        if line.strip() == "finished":
            finished = True
            break
        reported += line.split()
        if len(reported) >= kill_after:
            time.sleep(rng.random() / 200)
            break
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read()  # lines printed before the kill landed are reports too
    proc.wait()
    for line in rest.splitlines():
        if line.strip() != "finished":
            reported += line.split()
    assert proc.returncode == -signal.SIGKILL or finished
    assert reported

    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with Workspace.open(path) as ws:  # opens clean (and recovers the WAL)
        st = ws.statuses()
        missing = [r for r in reported if r not in st]
        assert missing == []
        for rid in reported[:: max(1, len(reported) // 200)]:
            i = int(rid[1:])
            d = ws.decision(rid)
            if d["note"] == "bulk":
                assert d["status"] == "reject"
            else:
                assert (d["status"], d["note"]) == ("accept" if i % 2 else "pending", f"n{i}")
        assert ws.can_undo()


JOB = r"""
import sys, threading, time
from workbench.store.workspace import Workspace
from workbench.store.jobs import run_job
ws_path, calls_path, hold_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
calls = open(calls_path, "a", buffering=1)
made = []
def fn(x):
    calls.write(f"r{x}\n")  # before the work: a call the kill interrupts is still counted
    made.append(x)
    if len(made) > hold_after:  # never finish: the job is still mid-run however late the kill comes
        threading.Event().wait()
    time.sleep(0.002)
    return {"square": x * x}
ws = Workspace.open(ws_path)
run_job(ws, "square", [(f"r{i}", i) for i in range(400)], fn, params={"v": 1}, concurrency=4)
print("finished", flush=True)
"""


@pytest.mark.parametrize("seed", range(3))
def test_job_killed_mid_run_resumes_only_missing_rows(tmp_path, seed):
    ws_path, calls_path = tmp_path / "ws.sqlite", tmp_path / "calls.txt"
    calls_path.touch()
    target = random.Random(seed).randrange(20, 300)
    proc = subprocess.Popen([sys.executable, "-c", JOB, str(ws_path), str(calls_path), str(target)],
                            stdout=subprocess.PIPE, text=True)
    while len(calls_path.read_text().splitlines()) < target:
        assert proc.poll() is None, "the job ended before it could be killed"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first_calls = calls_path.read_text().split()

    items = [(f"r{i}", i) for i in range(400)]
    with Workspace.open(ws_path) as ws:
        run_id = ws.find_unfinished_job(job_key("square", {"v": 1}))
        assert ws.run(run_id)["status"] == "running"  # the killed attempt never finished
        assert ws.runs()[0]["status"] == "interrupted"  # what `workbench jobs` shows: its process is gone
        done_before = set(ws.job_done_rows(run_id))
        assert done_before and done_before <= set(first_calls) and len(done_before) < 400

        second_calls: list[str] = []
        res = run_job(ws, "square", items, lambda x: second_calls.append(f"r{x}") or {"square": x * x},
                      params={"v": 1}, concurrency=4)
        assert res.job_id == run_id and res.status == "done" and ws.runs()[0]["status"] == "done"
        assert sorted(second_calls) == sorted({rid for rid, _ in items} - done_before)
        assert len(second_calls) == len(set(second_calls))  # each missing row once
        assert (res.skipped, res.ok, res.failed) == (len(done_before), 400 - len(done_before), 0)
        assert res.results == {f"r{i}": {"square": i * i} for i in range(400)}
