"""Decisions follow their rows' content when the source file is edited (real files, real SQLite)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.data.dataset import Dataset
from workbench.store.reconcile import content_hashes, reconcile
from workbench.store.migrations import VERSION
from workbench.store.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "alpaca.jsonl"
FRENCH = "Translate the sentence into French."
DERIVATIVE = "What is the derivative of x^3 * sin(x)?"


@pytest.fixture
def src(tmp_path) -> Path:
    path = tmp_path / "a.jsonl"
    shutil.copy(SAMPLE, path)
    assert json.loads(path.read_text().splitlines()[3])["instruction"] == FRENCH
    return path


def _insert_first_line(path: Path) -> None:
    row = {"instruction": "New first row.", "input": "", "output": "Hello there."}
    path.write_text(json.dumps(row) + "\n" + path.read_text())


def _later_mtime(path: Path) -> None:
    """An edit that keeps the size, made within the file system's clock tick of the last look,
    would keep the mtime too; a person's edit never comes that fast, so move the mtime on."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))


def _instructions(path: Path) -> list[str]:
    return [json.loads(line)["instruction"] for line in path.read_text().splitlines()]


def test_decision_follows_its_row_when_a_line_is_inserted_at_the_top(src, tmp_path, capsys):
    assert main(["decide", str(src), "--row", "a.jsonl:3", "--reject"]) == 0
    _insert_first_line(src)
    out = tmp_path / "o.jsonl"
    assert main(["export", str(src), "--to", "alpaca", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["moved"] == 1 and summary["orphaned"] == 0
    kept = _instructions(out)
    assert FRENCH not in kept and DERIVATIVE in kept and "New first row." in kept
    with Workspace.for_dataset(Dataset.open([str(src)])) as ws:
        assert ws.statuses() == {"a.jsonl:4": "reject"}  # the French row's new id


def test_deciding_after_an_edit_does_not_replace_a_decision_that_should_move(src, tmp_path, capsys):
    assert main(["decide", str(src), "--row", "a.jsonl:3", "--reject"]) == 0
    _insert_first_line(src)
    # a.jsonl:3 is now the derivative row; its old decision (the French row's) moves to :4
    assert main(["decide", str(src), "--row", "a.jsonl:3", "--accept"]) == 0
    assert "1 moved with their rows" in capsys.readouterr().err
    assert main(["undo", str(src)]) == 0  # the history before the edit was dropped, not replayed
    assert main(["undo", str(src)]) == 1
    assert main(["redo", str(src)]) == 0
    with Workspace.for_dataset(Dataset.open([str(src)])) as ws:
        assert ws.statuses() == {"a.jsonl:3": "accept", "a.jsonl:4": "reject"}


def test_row_edited_in_place_sets_its_decision_aside(src, tmp_path, capsys):
    assert main(["decide", str(src), "--row", "a.jsonl:3", "--reject", "--note", "wrong language"]) == 0
    lines = src.read_text().splitlines()
    lines[3] = lines[3].replace("French", "German")
    src.write_text("\n".join(lines) + "\n")
    _later_mtime(src)

    assert main(["status", str(src)]) == 0
    printed = capsys.readouterr().out
    assert "0 moved with their rows, 1 set aside" in printed and "reject 0" in printed
    out = tmp_path / "o.jsonl"
    assert main(["export", str(src), "--to", "alpaca", "-o", str(out)]) == 0
    assert "1 decision(s) set aside, not applied" in capsys.readouterr().out
    assert len(_instructions(out)) == len(lines)  # the edited row is not rejected
    with Workspace.for_dataset(Dataset.open([str(src)])) as ws:
        (orphan,) = ws.orphans()  # kept, with what the person said
        assert (orphan["row_id"], orphan["status"], orphan["note"]) == ("a.jsonl:3", "reject", "wrong language")
        assert ws.statuses() == {}


def test_unchanged_source_hashes_nothing(src, tmp_path):
    ds = Dataset.open([str(src)])
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        ws.decide("a.jsonl:3", "reject", content=content_hashes(ds, ["a.jsonl:3"])["a.jsonl:3"])
        assert reconcile(ds, ws) == {"moved": 0, "orphaned": 0, "hashed": 1, "withdrawn": 0}  # first look: the decided row
        assert reconcile(ds, ws)["hashed"] == 0
        assert ws.get_meta("reconciled")[0][1:] == [src.stat().st_size, src.stat().st_mtime_ns]
        _insert_first_line(src)
        ds2 = Dataset.open([str(src)])
        assert reconcile(ds2, ws) == {"moved": 1, "orphaned": 0, "hashed": 1 + len(ds2), "withdrawn": 0}
        assert reconcile(ds2, ws)["hashed"] == 0


def test_ambiguous_content_and_taken_rows_are_set_aside(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ds = Dataset.open([str(path)])
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        ids = ds.ids
        ws.decide_each({ids[1]: "reject", ids[3]: "accept"}, content=content_hashes(ds, [ids[1], ids[3]]))
        ws.decide(ids[0], "accept")  # no hash (an old decision): never moved, never set aside
        reconcile(ds, ws)
        # q1 now twice (ambiguous); q3 once, but at d.jsonl:0, which holds an unhashed decision
        rows = [rows[3], rows[0], rows[1], rows[1]]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        _later_mtime(path)
        assert reconcile(Dataset.open([str(path)]), ws) == {"moved": 0, "orphaned": 2, "hashed": 6, "withdrawn": 0}
        assert ws.statuses() == {ids[0]: "accept"}
        assert [o["row_id"] for o in ws.orphans()] == [ids[1], ids[3]]


def test_hashes_survive_undo_and_redo_and_ignore_position(src, tmp_path):
    ds = Dataset.open([str(src)])
    h = content_hashes(ds, ["a.jsonl:3", "not-a-row"])
    assert list(h) == ["a.jsonl:3"]  # ids that are not rows have no hash
    rec = dict(ds.record(3), id="elsewhere", source="x", row=99)
    from workbench.store.reconcile import content_hash

    assert content_hash(rec) == h["a.jsonl:3"]
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        ws.decide("a.jsonl:3", "reject", content=h["a.jsonl:3"])
        ws.decide("a.jsonl:3", "accept", content=h["a.jsonl:3"])
        ws.undo()
        ws.undo()
        ws.redo()
        assert ws.decision_hashes() == {"a.jsonl:3": h["a.jsonl:3"]}


def test_v2_workspace_migrates_and_keeps_unhashed_decisions(src, tmp_path):
    path = tmp_path / "old.sqlite"
    with Workspace.open(path) as ws:
        ws.decide("a.jsonl:3", "reject")
    con = sqlite3.connect(path)  # take the file back to the version-2 layout
    con.executescript("DROP TABLE orphans; ALTER TABLE decisions DROP COLUMN content;"
                      "ALTER TABLE runs DROP COLUMN log; DROP TABLE assignments; DROP INDEX steps_by;"
                      "ALTER TABLE steps DROP COLUMN by; UPDATE decisions SET by = 'user';"
                      "UPDATE history SET after = json_set(after, '$.by', 'user');"
                      "UPDATE schema_version SET version = 2;")
    con.close()
    with Workspace.open(path) as ws:
        assert ws.schema_version == VERSION and ws.decision_hashes() == {"a.jsonl:3": None}
        _insert_first_line(src)
        assert reconcile(Dataset.open([str(src)]), ws)["orphaned"] == 0  # nothing to compare with
        assert ws.statuses() == {"a.jsonl:3": "reject"}
        assert ws.undo() == ["a.jsonl:3"]  # history from before v3 still undoes


def test_operation_proposals_made_on_an_earlier_version_are_withdrawn_not_misapplied(src, tmp_path, capsys):
    # The sample's exact copy of the French row (a.jsonl:14, differing in case and spaces) is
    # proposed for rejection; after an insert at the top, id a.jsonl:14 names another row.
    assert main(["dedup", str(src), "--method", "exact"]) == 0
    with Workspace.for_dataset(Dataset.open([str(src)])) as ws:
        assert ws.statuses() == {"a.jsonl:14": "reject"}
    _insert_first_line(src)
    out = tmp_path / "o.jsonl"
    capsys.readouterr()
    assert main(["export", str(src), "--to", "alpaca", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["withdrawn"] == 1 and summary["rows"] == summary["total"]  # nothing left out blindly
    with Workspace.for_dataset(Dataset.open([str(src)])) as ws:
        assert ws.statuses() == {} and ws.signal_values("cluster")  # signals stay, for reading
    assert main(["dedup", str(src), "--method", "exact"]) == 0  # run again on this version: it applies
    with Workspace.for_dataset(Dataset.open([str(src)])) as ws:
        assert ws.statuses() == {"a.jsonl:15": "reject"}
    assert main(["export", str(src), "--to", "alpaca", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["withdrawn"] == 0 and summary["rows"] == summary["total"] - 1


def test_hashes_name_the_first_row_holding_an_id_across_sources(tmp_path):
    # Two files are two chunks of the id column, and an id field need not be unique.
    rows = [{"id": "same", "instruction": "first", "output": "1"}, {"id": "b1", "instruction": "b", "output": "2"}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:1]) + "\n")
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(dict(r, id="same") if i == 0 else r)
                                                for i, r in enumerate([{**rows[0], "instruction": "later"}, rows[1]])) + "\n")
    ds = Dataset.open([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    assert ds.ids == ["same", "same", "b1"]
    from workbench.store.reconcile import content_hash

    h = content_hashes(ds, ["b1", "gone", "same", "b1"])
    assert h == {"b1": content_hash(ds.record(2)), "same": content_hash(ds.record(0))}


def test_a_second_process_reconciling_the_same_edit_moves_nothing_twice(src, tmp_path, monkeypatch):
    # Two processes (the TUI opening, `workbench status`) plan the same moves after one edit; the
    # second writes after the first did. It used to move the moved decisions once more.
    path = tmp_path / "w.sqlite"
    ds = Dataset.open([str(src)])
    ids = ds.ids
    with Workspace.open(path) as ws:
        ws.decide_each({ids[3]: "reject", ids[4]: "accept"}, content=content_hashes(ds, [ids[3], ids[4]]))
        reconcile(ds, ws)
    _insert_first_line(src)
    edited = Dataset.open([str(src)])
    follow = Workspace.follow_content

    def other_process_writes_first(self, *args):
        monkeypatch.setattr(Workspace, "follow_content", follow)
        with Workspace.open(path) as other:
            assert reconcile(edited, other)["moved"] == 2
        return follow(self, *args)

    monkeypatch.setattr(Workspace, "follow_content", other_process_writes_first)
    with Workspace.open(path) as ws:
        reconcile(edited, ws)
        assert ws.statuses() == {ids[4]: "reject", ids[5]: "accept"}
        assert ws.orphans() == []


def test_a_decision_made_on_the_version_before_anothers_reconcile_still_follows_its_row(src, tmp_path):
    # The TUI holds the file as it was when opened; the file is edited and `workbench status`
    # reconciles the edit; then the TUI decides on its (older) ids.
    path = tmp_path / "w.sqlite"
    before = Dataset.open([str(src)])
    with Workspace.for_dataset(before, path) as tui:
        reconcile(before, tui)
        _insert_first_line(src)
        edited = Dataset.open([str(src)])
        with Workspace.for_dataset(edited, path) as cli:
            reconcile(edited, cli)
            tui.decide("a.jsonl:3", "reject", content=content_hashes(before, ["a.jsonl:3"])["a.jsonl:3"])
            assert reconcile(edited, cli)["moved"] == 1
            assert cli.statuses() == {"a.jsonl:4": "reject"}  # the French row, not the derivative


def test_a_run_still_running_after_an_edit_keeps_having_its_proposals_withdrawn(tmp_path):
    path = tmp_path / "w.sqlite"
    old, new = [["/d.jsonl", 10, 1]], [["/d.jsonl", 11, 2]]
    with Workspace.open(path) as ws:
        ws.stamp = old  # as Workspace.for_dataset records it
        done, running = ws.start_run("dedup", {}), ws.start_run("judge", {})
        ws.propose(done, ["d:1", "d:2"])
        ws.finish_run(done, "done", {})
        ws.propose(running, ["d:3"])
        assert ws.withdraw_stale(old) == 0
        assert ws.withdraw_stale(new) == 3
        ws.propose(running, ["d:4"])  # the running operation goes on with the version it read
        assert ws.withdraw_stale(new) == 1
        assert ws.statuses() == {}
        assert ws.get_meta(f"run_stamp.{done}") is None  # finished and withdrawn: not looked at again


def test_cli_undo_and_redo_hash_the_decisions_they_restore(src):
    ds = Dataset.open([str(src)])
    with Workspace.for_dataset(ds) as ws:
        ws.decide_many(["a.jsonl:3"], "reject")  # as the TUI writes a bulk decision, hashed after
        ws.add_content(content_hashes(ds, ["a.jsonl:3"]))
    assert main(["undo", str(src)]) == 0 and main(["redo", str(src)]) == 0
    with Workspace.for_dataset(ds) as ws:
        assert ws.decision_hashes() == content_hashes(ds, ["a.jsonl:3"])


def test_a_workspace_shared_with_another_file_keeps_that_files_decisions(src, tmp_path, capsys):
    other = tmp_path / "b.jsonl"
    own = json.dumps({"instruction": "Only in b.", "output": "b"}) + "\n"
    other.write_text(own + "".join(src.read_text().splitlines(keepends=True)[:2]))
    shared = str(tmp_path / "shared.sqlite")
    assert main(["decide", str(src), "--row", "a.jsonl:5", "--reject", "--workspace", shared]) == 0
    assert main(["decide", str(other), "--row", "b.jsonl:0", "--accept", "--workspace", shared]) == 0
    assert main(["dedup", str(src), "--method", "exact", "--workspace", shared]) == 0
    assert main(["status", str(other), "--workspace", shared]) == 0  # used to set a.jsonl:5 aside
    assert "set aside" not in capsys.readouterr().out
    with Workspace.open(shared) as ws:
        assert ws.statuses() == {"a.jsonl:5": "reject", "a.jsonl:14": "reject", "b.jsonl:0": "accept"}
        assert ws.orphans() == []
    _insert_first_line(src)  # the workspace's own dataset still follows its rows, and leaves b's
    assert main(["status", str(src), "--workspace", shared]) == 0
    with Workspace.open(shared) as ws:
        assert ws.statuses() == {"a.jsonl:6": "reject", "b.jsonl:0": "accept"} and ws.orphans() == []
