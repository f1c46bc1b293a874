"""Hard faults: a full disk, a read-only folder, a damaged or foreign workspace file.

Each one ends a command with one line naming the file (never a traceback), leaves what was
decided before intact, and never writes into a file that is not a workspace. The full disk is
real: a small tmpfs mounted for the test (the tests run as root here and in CI).
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from workbench.cli import main as _main
from workbench.store.workspace import APPLICATION_ID, Workspace, WorkspaceError


def main(argv: list[str]) -> int:
    """The CLI's exit status, as the shell sees it (some errors end it with SystemExit)."""
    try:
        return _main(argv)
    except SystemExit as e:
        return int(e.code or 0)


def one_line_error(capsys, *names: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for name in names:
        assert name in err, err
    return err


# -- a full disk ---------------------------------------------------------------------------


def test_decide_on_a_full_disk_is_one_line_and_loses_nothing(data, disk, capsys):
    ws_path = disk.path / "ws.sqlite"
    for i in range(3):
        assert main(["decide", str(data), "--workspace", str(ws_path), "--row", f"ex-{i}", "--reject"]) == 0
    disk.fill()
    capsys.readouterr()
    fails = 0
    for i in range(3, 6):  # a few tries: the first may still fit in a free page
        if main(["decide", str(data), "--workspace", str(ws_path), "--row", f"ex-{i}", "--accept"]) == 1:
            fails += 1
            err = one_line_error(capsys, str(ws_path), "disk is full")
            assert "rollback" not in err  # the real cause, not the failed ROLLBACK after it
    assert fails
    disk.free()
    with Workspace(ws_path) as ws:
        st = ws.statuses()
    assert all(st[f"ex-{i}"] == "reject" for i in range(3))  # 0 decisions lost
    assert sum(s == "accept" for s in st.values()) == 3 - fails  # a failed decision is not half-saved


def test_convert_and_export_to_a_full_disk(data, disk, capsys):
    disk.fill()
    big = data.parent / "big.jsonl"
    big.write_text("".join(json.dumps({"id": f"r{i}", "messages": [{"role": "user", "content": "x" * 500},
                                       {"role": "assistant", "content": "y"}]}) + "\n" for i in range(300)))
    out = disk.path / "out.jsonl"
    assert main(["convert", str(big), "--to", "openai", "-o", str(out)]) == 1
    one_line_error(capsys, str(out), "No space left")
    assert main(["export", str(big), "--to", "openai", "-o", str(out)]) == 1
    one_line_error(capsys, str(out), "No space left")
    assert sorted(p.name for p in disk.path.iterdir()) == ["filler"]  # no partial output, no temp file


def test_info_with_a_full_cache_still_reads(data, disk, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_HOME", str(disk.path))
    disk.fill()
    assert main(["info", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 6


# -- a read-only folder ----------------------------------------------------------------------


def test_a_workspace_in_a_read_only_folder_is_read_read_only(data, disk, capsys):
    ws_path = disk.path / "ws.sqlite"
    assert main(["decide", str(data), "--workspace", str(ws_path), "--row", "ex-1", "--reject"]) == 0
    disk.read_only()
    before = sorted(p.name for p in disk.path.iterdir())
    capsys.readouterr()
    assert main(["status", str(data), "--workspace", str(ws_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"accept": 0, "reject": 1, "pending": 5}
    assert main(["jobs", str(data), "--workspace", str(ws_path)]) == 0
    out = data.parent / "out.jsonl"
    assert main(["export", str(data), "--workspace", str(ws_path), "--to", "openai", "-o", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 5
    capsys.readouterr()
    assert main(["decide", str(data), "--workspace", str(ws_path), "--row", "ex-2", "--accept"]) == 1
    one_line_error(capsys, str(ws_path))
    assert sorted(p.name for p in disk.path.iterdir()) == before


# -- damaged and foreign files -----------------------------------------------------------


def test_another_programs_sqlite_file_is_refused_untouched(data, tmp_path, capsys):
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE users (name TEXT)")
        db.execute("INSERT INTO users VALUES ('ann')")
    db.close()
    before = other.read_bytes()
    with pytest.raises(WorkspaceError, match="not a Workbench workspace"):
        Workspace(other)
    for cmd in (["status"], ["decide", "--row", "ex-1", "--accept"]):
        assert main([cmd[0], str(data), "--workspace", str(other), *cmd[1:]]) == 1
        one_line_error(capsys, str(other), "not a Workbench workspace")
    assert other.read_bytes() == before  # no tables added, journal mode unchanged
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app.db")) == ["app.db"]


def test_new_workspaces_say_what_they_are(tmp_path):
    with Workspace(tmp_path / "w.sqlite"):
        pass
    with sqlite3.connect(tmp_path / "w.sqlite") as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_a_directory_is_refused(data, tmp_path, capsys):
    (tmp_path / "wsdir").mkdir()
    assert main(["status", str(data), "--workspace", str(tmp_path / "wsdir")]) == 1
    one_line_error(capsys, "wsdir", "directory")


@pytest.mark.parametrize("where", ["header", "data page"])
def test_a_damaged_workspace_is_refused(data, tmp_path, capsys, where):
    path = tmp_path / "w.sqlite"
    with Workspace(path) as ws:
        ws.decide_many([f"ex-{i}" for i in range(6)], "reject", note="n" * 3000)  # history over several pages
    raw = bytearray(path.read_bytes())
    page = 4096
    if where == "header":
        raw[:100] = b"\xff" * 100
    else:  # the last pages (history, decisions): the file opens, reading the rows fails
        raw[-2 * page:] = b"\xa5" * (2 * page)
    path.write_bytes(bytes(raw))
    for cmd in (["status"], ["decide", "--row", "ex-1", "--accept"], ["export", "--to", "openai", "-o",
                                                                        str(tmp_path / "o.jsonl")]):
        assert main([cmd[0], str(data), "--workspace", str(path), *cmd[1:]]) == 1
        one_line_error(capsys, str(path))
