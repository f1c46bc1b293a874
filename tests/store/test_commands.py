"""The CLI on a real JSONL file: decide, status, jobs, export."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.cli import main
from workbench.store.workspace import Workspace


def test_decide_status_export(data, tmp_path, capsys):
    src = data.read_bytes()
    assert main(["decide", str(data), "--row", "ex-1", "--reject", "--note", "bad"]) == 0
    assert main(["decide", str(data), "--row", "ex-2", "--row", "ex-3", "--accept", "--tag", "math"]) == 0
    capsys.readouterr()
    assert main(["status", str(data), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["counts"] == {"accept": 2, "reject": 1, "pending": 3} and st["rejected_by"] == {"manual": 1}

    out = tmp_path / "out" / "a.jsonl"
    assert main(["export", str(data), "--to", "alpaca", "-o", str(out)]) == 0
    assert "left out 1: manual" in capsys.readouterr().out
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["ex-0", "ex-2", "ex-3", "ex-4", "ex-5"]
    assert main(["export", str(data), "--to", "openai", "-o", str(out), "--only", "accepted", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["left_out"] == {"not accepted": 3, "manual": 1}
    assert len(out.read_text().splitlines()) == 2
    assert data.read_bytes() == src  # the source is never modified


def test_unknown_row_is_a_clear_error(data, capsys):
    assert main(["decide", str(data), "--row", "ex-1", "--row", "nope", "--accept"]) == 1
    err = capsys.readouterr().err
    assert "no row with id 'nope'" in err and "ex-0" in err
    assert main(["decide", str(data), "--row", "ex-1", "--row", "6", "--accept"]) == 1
    assert "row 6 is out of range: the dataset has 6 rows" in capsys.readouterr().err
    assert main(["status", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["accept"] == 0  # nothing half-applied


def test_decide_takes_a_0_based_index_as_template_render_does(data, capsys):
    assert main(["decide", str(data), "--row", "2", "--row", "ex-3", "--reject"]) == 0
    assert "reject: ex-2, ex-3" in capsys.readouterr().out


def test_export_refuses_to_overwrite_the_source(data, capsys):
    src = data.read_bytes()
    assert main(["export", str(data), "--to", "openai", "-o", str(data)]) == 1
    assert "overwrite the source" in capsys.readouterr().err
    assert data.read_bytes() == src


def test_workspace_option_and_jobs(data, tmp_path, capsys):
    ws_path = tmp_path / "mine.sqlite"
    assert main(["decide", str(data), "--workspace", str(ws_path), "--row", "ex-0", "--accept"]) == 0
    with Workspace.open(ws_path) as ws:
        assert ws.statuses() == {"ex-0": "accept"}
        from workbench.store.jobs import run_job

        run_job(ws, "judge", [("ex-0", 0), ("ex-1", 1)], lambda x: 1 / x)
    capsys.readouterr()
    assert main(["jobs", str(data), "--workspace", str(ws_path)]) == 0
    out = capsys.readouterr().out
    assert "judge" in out and "ok 1" in out and "failed 1" in out
    assert main(["jobs", str(data), "--workspace", str(ws_path), "--errors", "1"]) == 0
    assert "ex-0: ZeroDivisionError" in capsys.readouterr().out
    assert main(["status", str(data), "--workspace", str(ws_path)]) == 0
    assert "judge" in capsys.readouterr().out


def test_entry_point_runs_as_a_program(data):
    r = subprocess.run([sys.executable, "-m", "workbench", "decide", str(data), "--row", "ex-4", "--reject"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "workbench", "status", str(data)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "reject 1" in r.stdout


def test_undo_redo_commands(data, capsys):
    assert main(["decide", str(data), "--row", "ex-1", "--accept"]) == 0
    assert main(["decide", str(data), "--row", "ex-1", "--row", "ex-2", "--reject"]) == 0
    capsys.readouterr()
    assert main(["undo", str(data)]) == 0
    assert capsys.readouterr().out.strip() == "undo: ex-1 -> accept, ex-2 -> pending"
    assert main(["redo", str(data)]) == 0
    assert "ex-2 -> reject" in capsys.readouterr().out
    assert main(["redo", str(data)]) == 1
    assert "nothing to redo" in capsys.readouterr().out


def test_status_ignores_decisions_on_rows_the_source_lost(data, tmp_path, capsys):
    ws_path = tmp_path / "w.sqlite"
    with Workspace.open(ws_path) as ws:
        ws.decide_many(["ex-0", "gone-1", "gone-2"], "reject")
    assert main(["status", str(data), "--workspace", str(ws_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"accept": 0, "reject": 1, "pending": 5}


def test_row_position_on_an_empty_dataset_is_an_error_not_a_crash():
    from workbench.cli.common import row_position
    from workbench.data.dataset import Dataset

    empty = Dataset.from_records([])
    with pytest.raises(ValueError, match="the dataset has no rows"):
        row_position(empty, "ex-1")
    with pytest.raises(ValueError, match="out of range: the dataset has 0 rows"):
        row_position(empty, "0")
