"""Operations as jobs over a faulty server: every row ends done or carrying its error."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from llm_rows import sft
from tests.support.loopback import LoopbackServer
from workbench.ops.base import apply_result
from workbench.ops.generation.cot import cot

FAULT_PLANS = [["hang"], ["429", "500"], ["truncated"], ["malformed", "no_choices"], [], ["500"] * 20]


def test_every_row_done_or_carrying_its_error(make_client, ws):
    rows = [sft(i, prompt=f"question {i}") for i in range(18)]
    # the cot prompt holds "Question:\nquestion i\n\nOriginal answer": each row gets its own faults
    with LoopbackServer(lambda m: "Step 1: think. Step 2: conclude. Final answer: yes.",
                        faults={f"\nquestion {i}\n": FAULT_PLANS[i % len(FAULT_PLANS)] for i in range(18)},
                        retry_after=0.05, hang_seconds=600) as srv:  # a hang lasts until the server stops
        res = cot(rows, make_client(srv, retries=4, timeout=3.0), ws, concurrency=6)
    failed = {f"row{i}" for i in range(18) if i % len(FAULT_PLANS) == 5}
    assert set(res.errors) == failed
    assert all("internal error" in e for e in res.errors.values())
    assert {r["id"] for r in res.rows} == {r["id"] for r in rows} - failed
    assert all(r["messages"][-1]["content"].startswith("Step 1") for r in res.rows)
    assert all(r["meta"]["provenance"]["operation"] == "cot" for r in res.rows)
    # the job records say the same: each failed row has its error in the workspace
    assert set(ws.job_errors(res.job_id)) == failed
    # and the rewrites are there to review, once the result is applied
    apply_result(ws, res)
    assert ws.signal_values("rewrite.cot")["row0"]["before"] == "answer 0"


def test_killed_job_resumes_without_calling_the_model_again(tmp_path):
    src = tmp_path / "in.jsonl"
    n = 12
    src.write_text("".join(f'{{"instruction": "task number {i}", "input": "", "output": "old {i}"}}\n'
                           for i in range(n)))
    out = tmp_path / "out.jsonl"
    wsfile = tmp_path / "job.sqlite"
    answered, release = itertools.count(), threading.Event()

    def reply(messages):
        # Requests after the fifth wait until the kill: the first run cannot finish, however slow this test is.
        if next(answered) >= 5:
            release.wait(300)
        return "Step 1. Step 2. Final answer: done."

    with LoopbackServer(reply, latency=0.3) as srv:
        cmd = [sys.executable, "-m", "workbench", "generate", "cot", str(src), "--model", "openai/loopback",
               "--api-base", srv.api_base, "-o", str(out), "--workspace", str(wsfile), "--concurrency", "2"]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while srv.total < 5 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        release.set()
        assert not out.exists() and 5 <= srv.total < n
        from workbench.store.workspace import Workspace

        with Workspace.open(wsfile) as ws:
            run = ws.runs()[0]
            done_before = ws.job_done_rows(run["id"])
        assert done_before, "the first run checkpointed nothing before it was killed"
        first_counts = dict(srv.counts)

        rc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert rc.returncode == 0, rc.stderr
    assert len(out.read_text().splitlines()) == n
    done_prompts = {k for k in first_counts if any(f"task number {rid.split(':')[1]}\n" in k for rid in done_before)}
    # rows finished before the kill were never asked again; the rest at most once more
    assert all(srv.counts[k] == 1 for k in done_prompts)
    assert all(c <= 2 for c in srv.counts.values()) and len(srv.counts) == n
