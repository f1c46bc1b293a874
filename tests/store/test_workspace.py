"""The workspace on real SQLite files: decisions, undo/redo, proposals, queries, signals, cache."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter

import pytest

from workbench.store.workspace import Workspace, WorkspaceError


def test_decisions_persist_across_reopen(tmp_path):
    path = tmp_path / "ws.sqlite"
    with Workspace.open(path) as w:
        w.decide("a", "accept", note="good", tags=["math", "short"], by="ana")
        w.decide("b", "reject")
    with Workspace.open(path) as w:
        d = w.decision("a")
        assert (d["status"], d["note"], d["tags"], d["by"]) == ("accept", "good", ["math", "short"], "ana")
        assert w.statuses() == {"a": "accept", "b": "reject"}
        assert w.decision("zzz") is None


def test_decide_keeps_note_and_tags_unless_given(ws):
    ws.decide("a", "reject", note="too long", tags=["x"])
    ws.decide("a", "accept")
    assert ws.decision("a")["note"] == "too long" and ws.decision("a")["tags"] == ["x"]
    ws.decide("a", "accept", note="", tags=[])
    assert ws.decision("a")["note"] == "" and ws.decision("a")["tags"] == []


def test_bad_status_is_refused(ws):
    with pytest.raises(ValueError, match="status must be one of"):
        ws.decide("a", "maybe")
    assert ws.statuses() == {}


def test_undo_redo_single_and_bulk_steps(ws):
    ws.decide("a", "accept")
    ws.decide_many(["b", "c", "d"], "reject", note="bulk")
    ws.decide("a", "reject")
    assert ws.undo() == ["a"]
    assert ws.statuses() == {"a": "accept", "b": "reject", "c": "reject", "d": "reject"}
    assert ws.undo() == ["b", "c", "d"]  # decide_many is one undo step
    assert ws.statuses() == {"a": "accept"}
    assert ws.redo() == ["b", "c", "d"]
    assert ws.decision("c")["note"] == "bulk"
    assert ws.redo() == ["a"]
    assert ws.redo() == []
    assert ws.statuses()["a"] == "reject"
    assert ws.undo() == ["a"] and ws.undo() == ["b", "c", "d"] and ws.undo() == ["a"]
    assert ws.undo() == [] and ws.statuses() == {}


def test_decide_each_is_one_undo_step(ws):
    # Keeping one duplicate accepts it and rejects the others: one key press, one undo.
    ws.decide("a", "reject")
    ws.decide_each({"a": "accept", "b": "reject", "c": "reject"})
    assert ws.statuses() == {"a": "accept", "b": "reject", "c": "reject"}
    assert ws.undo() == ["a", "b", "c"]
    assert ws.statuses() == {"a": "reject"}
    assert ws.redo() == ["a", "b", "c"] and ws.statuses()["a"] == "accept"
    with pytest.raises(ValueError, match="status must be one of"):
        ws.decide_each({"a": "maybe"})


def test_new_decision_clears_redo(ws):
    ws.decide("a", "accept")
    ws.decide("b", "accept")
    ws.undo()
    assert ws.can_redo()
    ws.decide("c", "reject")
    assert not ws.can_redo() and ws.redo() == []
    assert ws.statuses() == {"a": "accept", "c": "reject"}


def test_undo_survives_reopen(tmp_path):
    path = tmp_path / "ws.sqlite"
    with Workspace.open(path) as w:
        w.decide("a", "accept")
        w.decide("a", "reject")
    with Workspace.open(path) as w:
        assert w.undo() == ["a"]
        assert w.decision("a")["status"] == "accept"


def test_person_beats_operation_and_undo_restores_proposal(ws):
    run = ws.start_run("length_filter", {"max": 100})
    assert ws.propose(run, ["a", "b"], "reject", reason="too long") == 2
    d = ws.decision("a")
    assert (d["status"], d["by"], d["note"]) == ("reject", f"op:{run}", "too long")
    ws.decide("a", "accept")
    later = ws.start_run("judge", {})
    ws.propose(later, ["a", "b"], "reject", reason="low score")
    assert ws.statuses() == {"a": "accept", "b": "reject"}
    assert ws.reasons() == {"a": ("accept", "manual"), "b": ("reject", "judge")}
    ws.undo()
    assert ws.decision("a")["by"] == f"op:{later}"
    ws.withdraw(later)
    assert ws.reasons()["a"] == ("reject", "length_filter")


def test_signals_latest_run_wins_and_op_filter(ws):
    r1 = ws.start_run("dedup", {"threshold": 0.9})
    ws.add_signals(r1, [("a", "dedup.cluster_size", 3), ("b", "dedup.cluster_size", 1)])
    r2 = ws.start_run("dedup", {"threshold": 0.8})
    ws.add_signals(r2, [("a", "dedup.cluster_size", 5)])
    r3 = ws.start_run("other", {})
    ws.add_signals(r3, [("b", "dedup.cluster_size", 9)])
    assert ws.signal_values("dedup.cluster_size") == {"a": 5, "b": 9}
    assert ws.signal_values("dedup.cluster_size", op="dedup") == {"a": 5, "b": 1}
    assert [s["value"] for s in ws.signals("a")] == [3, 5]
    assert ws.signals("a")[0] == {"run_id": r1, "op": "dedup", "name": "dedup.cluster_size", "value": 3}
    # the current values only: the latest run per signal name, as signal_values reads them
    assert ws.signals("a", latest=True) == [{"run_id": r2, "op": "dedup", "name": "dedup.cluster_size", "value": 5}]
    assert [(s["op"], s["value"]) for s in ws.signals("b", latest=True)] == [("other", 9)]


def test_queries_by_status_tag_and_signal(ws):
    run = ws.start_run("judge", {})
    ws.add_signals(run, [("a", "judge.score", 2), ("b", "judge.score", 4.5), ("c", "judge.score", None),
                         ("d", "judge.score", 1), ("a", "dedup.cluster_size", 2), ("b", "dedup.cluster_size", 1)])
    ws.decide("a", "reject", tags=["math"])
    ws.decide("b", "accept", tags=["math", "code"])
    assert ws.query(status="reject") == ["a"]
    assert ws.query(tag="math") == ["a", "b"]
    assert ws.query(tag="code") == ["b"]
    assert ws.query(signal="judge.score", op="<", value=3) == ["a", "d"]  # None never matches
    assert ws.query(signal="dedup.cluster_size", op=">", value=1) == ["a"]
    assert ws.query(signal="judge.score") == ["a", "b", "c", "d"]
    assert ws.query(signal="judge.score", op="<", value=3, tag="math") == ["a"]
    ids = ["d", "c", "b", "a", "e"]
    assert ws.query(status="pending", row_ids=ids) == ["d", "c", "e"]
    assert ws.query(signal="judge.score", op="<", value=3, row_ids=ids) == ["d", "a"]
    with pytest.raises(ValueError, match="op must be one of"):
        ws.query(signal="judge.score", op="~", value=1)


def test_llm_cache(ws):
    assert ws.cache_get("k") is None
    ws.cache_put("k", {"text": "hi", "usage": {"prompt_tokens": 3}, "cost": 0.0})
    assert ws.cache_get("k") == {"text": "hi", "usage": {"prompt_tokens": 3}, "cost": 0.0}


def test_runs_newest_first(ws):
    a = ws.start_run("filter", {"x": 1})
    b = ws.start_run("dedup", {})
    ws.finish_run(a, "done", {"ok": 3})
    runs = ws.runs()
    assert [r["id"] for r in runs] == [b, a]
    assert runs[1]["status"] == "done" and runs[1]["counts"] == {"ok": 3} and runs[1]["params"] == {"x": 1}
    assert runs[0]["status"] == "running" and runs[0]["finished"] is None


def test_wal_mode_and_closed_workspace(tmp_path):
    w = Workspace.open(tmp_path / "ws.sqlite")
    assert w._read("PRAGMA journal_mode")[0][0] == "wal"
    w.close()
    with pytest.raises(WorkspaceError, match="closed"):
        w.decide("a", "accept")


def test_not_a_workspace_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(WorkspaceError, match="notes.sqlite"):
        Workspace.open(bad)


def test_for_dataset_default_path_is_under_data_dir(tmp_path):
    from workbench.data.dataset import Dataset
    from workbench.data.record import make_record
    from workbench.paths import data_dir

    ds = Dataset.from_records([make_record(id="a", messages=[{"role": "user", "content": "hi"}])])
    with Workspace.for_dataset(ds) as w:
        assert w.path == data_dir() / "workspaces" / f"{ds.fingerprint}.sqlite"
        w.decide("a", "accept")
    with Workspace.for_dataset(ds) as w:
        assert w.statuses() == {"a": "accept"}
    with Workspace.for_dataset(ds, tmp_path / "mine.sqlite") as w:
        assert w.statuses() == {}


def test_threads_write_at_once_without_locking_errors(tmp_path):
    """UI-like decisions, job checkpoints and signals from many threads, plus a reader."""
    w = Workspace.open(tmp_path / "ws.sqlite")
    run = w.start_run("op", {})
    errors: list[BaseException] = []
    stop = threading.Event()

    def decider(k):
        try:
            for i in range(150):
                w.decide(f"t{k}-{i}", "accept" if i % 2 else "reject")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def jobber(k):
        try:
            for i in range(150):
                w.checkpoint(run, f"j{k}-{i}", result={"i": i})
                w.add_signals(run, [(f"j{k}-{i}", "score", i)])
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def reader():
        try:
            while not stop.is_set():
                w.statuses()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=decider, args=(k,)) for k in range(4)]
    threads += [threading.Thread(target=jobber, args=(k,)) for k in range(4)]
    r = threading.Thread(target=reader)
    r.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    r.join()
    assert errors == []
    assert Counter(w.statuses().values()) == {"accept": 300, "reject": 300}
    assert len(w.job_done_rows(run)) == 600
    assert len(w.signal_values("score")) == 600
    w.close()


WRITER = """
import sys
from workbench.store.workspace import Workspace
ws = Workspace.open(sys.argv[1])
for i in range(300):
    ws.decide(f"{sys.argv[2]}-{i}", "accept")
    if i % 50 == 0:
        ws.decide_many([f"{sys.argv[2]}-bulk-{i}-{j}" for j in range(50)], "reject")
print("ok")
"""


def test_processes_write_at_once_without_locking_errors(tmp_path):
    """A CLI command next to the TUI: two processes on one file wait on busy_timeout."""
    import subprocess
    import sys

    path = tmp_path / "ws.sqlite"
    Workspace.open(path).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for name in ("p", "q", "r")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1] for o in outs]
    with Workspace.open(path) as w:
        assert Counter(w.statuses().values()) == {"accept": 900, "reject": 900}


def test_integrity_after_use(tmp_path):
    path = tmp_path / "ws.sqlite"
    with Workspace.open(path) as w:
        w.decide_many([str(i) for i in range(2000)], "accept")
        w.undo()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_reads_do_not_wait_for_an_open_write_and_see_only_commits(ws):
    ws.decide("a", "accept")
    inside, release = threading.Event(), threading.Event()

    def long_write():
        with ws._write() as db:  # a job's big transaction, held open
            db.execute("UPDATE decisions SET status = 'reject' WHERE row_id = 'a'")
            inside.set()
            release.wait(30)

    writer = threading.Thread(target=long_write)
    writer.start()
    assert inside.wait(30)
    seen = []
    reader = threading.Thread(target=lambda: seen.append((ws.statuses(), ws.decision("a")["status"])))
    reader.start()
    reader.join(30)
    finished_while_writing = not reader.is_alive()
    release.set()
    writer.join(30)
    reader.join(30)
    assert finished_while_writing
    assert seen == [({"a": "accept"}, "accept")]  # the uncommitted change is not visible
    assert ws.statuses() == {"a": "reject"}  # and is once committed
