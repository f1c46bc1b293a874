"""SIGKILL at a random moment, on every write path: reported decisions survive, killed jobs resume, an
operation's save is all or nothing, an export or convert leaves the earlier file whole."""

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


SAVER = r"""
import sys
from workbench.store.workspace import Workspace
ws = Workspace.open(sys.argv[1])
ws.decide("keep-me", "accept", note="a person's")
print("ready", flush=True)
k = 0
while True:  # re-runs of one operation, each proposing a different half of 4000 rows
    rejects = {f"r{i}": f"run {k}" for i in range(k % 2, 8000, 2)}
    ws.save_run("dedup", {"k": k}, signals=[(rid, "dup", k) for rid in rejects], rejects=rejects,
                counts={"rejects": len(rejects)})
    print("saved", k, flush=True)
    k += 1
"""


@pytest.mark.parametrize("seed", range(8))
def test_sigkill_during_an_operations_save_keeps_one_whole_run(tmp_path, seed):
    path = tmp_path / "ws.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    saves = random.Random(seed).randrange(1, 4)
    for _ in range(saves):
        assert proc.stdout.readline().startswith("saved")
    time.sleep(random.Random(seed).random() / 5)  # somewhere inside the next save
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Workspace.open(path) as ws:  # opens clean (and recovers the WAL)
        assert ws.decision("keep-me")["status"] == "accept"
        assert sum(s == "reject" for s in ws.statuses().values()) == 4000
    con = sqlite3.connect(path)
    runs = con.execute("SELECT run_id, reason, count(*) FROM proposals GROUP BY run_id, reason").fetchall()
    con.close()
    assert len(runs) == 1  # the proposals of exactly one run: never none, never a mix of two
    (run_id, why, n), = runs
    assert n == 4000 and int(why.split()[1]) >= saves - 1  # all of them, from the last reported run or a later one


WRITER = r"""
import contextlib, sys
from workbench.cli import main
print("ready", flush=True)
while True:
    with contextlib.redirect_stdout(sys.stderr):
        assert main(sys.argv[1:]) == 0
    print("wrote", flush=True)
"""


@pytest.mark.parametrize("command", ["export", "convert"])
@pytest.mark.parametrize("seed", range(4))
def test_sigkill_during_export_or_convert_leaves_the_old_file_whole(tmp_path, command, seed):
    import json

    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{i}", "messages": [
        {"role": "user", "content": f"question {i} " * 20}, {"role": "assistant", "content": f"answer {i}"}]}) + "\n"
        for i in range(20_000)))
    source = src.read_bytes()
    out = tmp_path / "out" / "o.jsonl"
    args = [command, str(src), "--to", "sharegpt", "-o", str(out)]
    proc = subprocess.Popen([sys.executable, "-c", WRITER, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout.readline().strip() == "ready"
    assert proc.stdout.readline().strip() == "wrote"
    first = out.read_bytes()
    time.sleep(random.Random(seed).random() * 0.8)  # inside one of the next writes
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert out.read_bytes() == first  # the complete earlier file, never half of a new one
    assert len(first.splitlines()) == 20_000
    assert src.read_bytes() == source
