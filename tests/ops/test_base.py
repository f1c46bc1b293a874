"""The operation model: Params (defaults, validation, dict and CLI forms), the registry, and
apply_result writing one run in one transaction (an interrupted re-run keeps the earlier
run's proposals)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from workbench.data.dataset import Dataset
from workbench.ops import registry
from workbench.ops.base import Context, ParamError, Result, apply_result
from workbench.ops.oprun import Cancelled
from workbench.store.workspace import Workspace


def _rows(n=6):
    rows = [{"id": f"r{i}", "kind": "sft", "messages": [
        {"role": "user", "content": f"Question number {i} about the weather in town?"},
        {"role": "assistant", "content": f"The weather in town is mild today, answer {i}."}]} for i in range(n)]
    rows[2]["messages"][1]["content"] = "I'm sorry, but I cannot help with that request at all."
    return Dataset.from_records(rows)


def test_params_defaults_dict_roundtrip_and_clear_errors():
    op = registry.get("filter")
    p = op.default_params()
    assert p.min_chars == 10
    again = op.params_from_dict(p.to_dict())
    assert again == p
    with pytest.raises(ParamError, match="unknown parameter.*min_char\\b"):
        op.params_from_dict({"min_char": 3})
    with pytest.raises(ParamError, match="max_chars must be a whole number"):
        op.params_from_dict({"max_chars": "lots"})


def test_unknown_operation_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown operation 'nope'.*filter"):
        registry.get("nope")


def test_filter_run_is_pure_and_apply_writes_one_run(ws):
    ds = _rows()
    op = registry.get("filter")
    seen = []
    res = op.run(ds, op.default_params(), Context(progress=lambda d, t: seen.append((d, t))))
    assert list(res.rejects) == ["r2"] and "refusal" in res.rejects["r2"]
    assert seen[-1] == (6, 6)
    assert ws.runs() == []  # run() wrote nothing
    run_id = apply_result(ws, res, selection={"all": True}, fingerprint=op.fingerprint(op.default_params()))
    assert ws.statuses() == {"r2": "reject"}
    (log,) = ws.run_log()
    assert log["id"] == run_id and log["op"] == "filter" and log["log"]["selection"] == {"all": True}
    # only some rows: the selection restricts what is read
    res2 = op.run(ds, op.default_params(), Context(), rows=["r0", "r1"])
    assert res2.report["rows"] == 2 and res2.rejects == {}


def test_rerun_withdraws_earlier_proposals_of_the_same_operation(ws):
    apply_result(ws, Result("dedup-minhash", {}, rejects={"a": "dup", "b": "dup"}))
    apply_result(ws, Result("filter", {}, rejects={"c": "short"}))
    apply_result(ws, Result("dedup-minhash", {"threshold": 0.9}, rejects={"b": "dup"}))
    assert ws.statuses() == {"b": "reject", "c": "reject"}


def test_cancelled_result_saves_nothing(ws):
    assert apply_result(ws, Result("filter", {}, rejects={"a": "x"}, status="cancelled")) is None
    assert ws.statuses() == {} and ws.runs() == []
    ctx = Context()
    ctx.cancel.set()
    with pytest.raises(Cancelled):
        registry.get("filter").run(_rows(), registry.get("filter").default_params(), ctx)


SAVER = r"""
import sys
from workbench.ops.base import Result, apply_result
from workbench.store.workspace import Workspace
ws = Workspace.open(sys.argv[1])
if sys.argv[2] == "first":
    apply_result(ws, Result("dedup-minhash", {"threshold": 0.5},
                            signals=[(f"r{i}", "cluster", i // 2) for i in range(40_000)],
                            rejects={f"r{i}": "dup" for i in range(1, 40_000, 2)}))
    print("saved", flush=True)
else:
    print("start", flush=True)
    apply_result(ws, Result("dedup-minhash", {"threshold": 0.9},
                            signals=[(f"r{i}", n, i) for i in range(60_000) for n in ("cluster", "size", "rep")],
                            rejects={f"r{i}": "dup" for i in range(0, 60_000, 3)}))
    print("saved", flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3, 0.6, 1.2])
def test_rerun_killed_mid_save_keeps_the_earlier_proposals(tmp_path, delay):
    path = str(tmp_path / "ws.sqlite")
    out = subprocess.run([sys.executable, "-c", SAVER, path, "first"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "saved"
    first = {f"r{i}" for i in range(1, 40_000, 2)}
    second = {f"r{i}" for i in range(0, 60_000, 3)}
    proc = subprocess.Popen([sys.executable, "-c", SAVER, path, "second"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "start"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    finished = proc.stdout.read().strip() == "saved"
    proc.wait()
    with Workspace.open(path) as ws:
        rejected = {r for r, s in ws.statuses().items() if s == "reject"}
        done = [r for r in ws.runs() if r["status"] == "done"]
    # all of the re-run or none of it: never the earlier run withdrawn without the new one
    assert rejected in (first, second)
    assert (rejected == second) == (len(done) == 2)
    if finished:
        assert rejected == second
