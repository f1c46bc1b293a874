"""Opening workspaces written by older Workbench versions (and refusing newer ones)."""

from __future__ import annotations

import sqlite3

import pytest

from workbench.store.jobs import run_job
from workbench.store.migrations import VERSION
from workbench.store.workspace import Workspace, WorkspaceError

# A frozen copy of the version-1 layout, as files in the wild have it: the test must not
# follow later edits of the migration list.
V1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE decisions (row_id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('accept', 'reject', 'pending')),
    note TEXT, tags TEXT, by TEXT NOT NULL, time REAL NOT NULL);
CREATE TABLE steps (step INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, undone INTEGER NOT NULL DEFAULT 0);
CREATE INDEX steps_undone ON steps (undone, step);
CREATE TABLE history (step INTEGER NOT NULL, row_id TEXT NOT NULL, before TEXT, after TEXT NOT NULL);
CREATE INDEX history_step ON history (step);
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, params TEXT NOT NULL,
    started REAL NOT NULL, finished REAL, status TEXT NOT NULL, counts TEXT);
CREATE TABLE proposals (row_id TEXT NOT NULL, run_id INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accept', 'reject', 'pending')),
    reason TEXT, time REAL NOT NULL, PRIMARY KEY (row_id, run_id));
CREATE TABLE signals (run_id INTEGER NOT NULL, row_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT,
    PRIMARY KEY (run_id, row_id, name));
CREATE INDEX signals_row ON signals (row_id);
CREATE INDEX signals_name ON signals (name, run_id);
INSERT INTO decisions VALUES ('a', 'accept', 'fine', '["math"]', 'user', 1700000000.0);
INSERT INTO steps VALUES (1, 1700000000.0, 0);
INSERT INTO history VALUES (1, 'a', NULL, '{"by": "user", "note": "fine", "status": "accept", "tags": ["math"], "time": 1700000000.0}');
INSERT INTO runs VALUES (1, 'dedup', '{}', 1700000000.0, 1700000001.0, 'done', '{"ok": 2}');
INSERT INTO proposals VALUES ('b', 1, 'reject', 'duplicate', 1700000001.0);
INSERT INTO signals VALUES (1, 'b', 'dedup.cluster_size', '2');
"""


def test_v1_workspace_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(V1)
    con.close()

    with Workspace.open(path) as ws:
        assert ws.schema_version == VERSION
        assert ws.statuses() == {"a": "accept", "b": "reject"}
        assert ws.decision("a")["tags"] == ["math"]
        assert ws.query(signal="dedup.cluster_size", op=">", value=1) == ["b"]
        assert ws.runs()[0]["job_key"] is None
        # what version 2 added works on the migrated file
        ws.cache_put("k", {"text": "x"})
        res = run_job(ws, "double", [("a", 1), ("b", 2)], lambda x: 2 * x)
        assert res.results == {"a": 2, "b": 4}
        assert ws.undo() == ["a"] and ws.decision("a") is None  # v1 history still undoes
    with Workspace.open(path) as ws:  # re-opening a migrated file is a no-op
        assert ws.schema_version == VERSION and ws.cache_get("k") == {"text": "x"}


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    Workspace.open(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE schema_version SET version = ?", (VERSION + 1,))
    con.commit()
    con.close()
    with pytest.raises(WorkspaceError, match="newer than this Workbench"):
        Workspace.open(path)
