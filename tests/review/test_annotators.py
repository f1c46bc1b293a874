"""Several annotators on one real SQLite workspace: one decision per annotator and row, each
annotator's own undo, the review policy deriving the dataset's decision, and the CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from workbench.cli import main
from workbench.data.dataset import Dataset
from workbench.session import Session
from workbench.store.review import default_annotator, derive, parse_rule
from workbench.store.workspace import Workspace


def test_two_processes_deciding_the_same_rows_never_overwrite_each_other(tmp_path):
    path = tmp_path / "ws.sqlite"
    Workspace.open(path).close()
    script = textwrap.dedent("""
        import sys
        from workbench.store.workspace import Workspace
        name, status = sys.argv[1], sys.argv[2]
        with Workspace.open(sys.argv[3]) as ws:
            for i in range(60):
                ws.decide(f"r{i}", status, by=name, note=name)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, name, status, str(path)])
             for name, status in (("ana", "accept"), ("ben", "reject"))]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with Workspace.open(path) as ws:
        got = {(d["row_id"], d["by"]): (d["status"], d["note"]) for d in ws.annotations()}
        assert len(got) == 120
        for i in range(60):
            assert got[(f"r{i}", "ana")] == ("accept", "ana") and got[(f"r{i}", "ben")] == ("reject", "ben")
        # each annotator's undo takes back their own step only
        assert ws.undo("ana") == ["r59"]
        assert ws.decision("r59")["by"] == "ben"
        assert {d["by"] for d in ws.annotations() if d["row_id"] == "r59"} == {"ben"}
        assert ws.redo("ana") == ["r59"] and ws.redo("ben") == []


# A hand-made table: row -> each annotator's decision (time order = list order).
TABLE = {
    "r1": [("ana", "accept"), ("ben", "accept"), ("chen", "reject")],
    "r2": [("ana", "reject"), ("ben", "accept")],
    "r3": [("ana", "accept")],
    "r4": [("ben", "reject"), ("chen", "pending")],
    "r5": [("chen", "accept"), ("ana", "reject"), ("ben", "pending")],
}
EXPECTED = {
    "single": {"r1": "reject", "r2": "accept", "r3": "accept", "r4": "pending", "r5": "pending"},
    "majority": {"r1": "accept", "r2": "pending", "r3": "accept", "r4": "reject", "r5": "pending"},
    "unanimous": {"r1": "pending", "r2": "pending", "r3": "accept", "r4": "reject", "r5": "pending"},
    "owner:ben": {"r1": "accept", "r2": "accept", "r4": "reject", "r5": "pending", "r6": "reject"},
}


@pytest.mark.parametrize("rule", list(EXPECTED))
def test_each_policy_derives_the_dataset_decision(tmp_path, rule):
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        for rid, votes in TABLE.items():
            for by, status in votes:
                ws.decide(rid, status, by=by)
        run = ws.start_run("dedup-exact")
        ws.propose(run, ["r3", "r6"], "reject", "duplicate")  # an operation's proposal, not a person
        assert ws.review_policy() == "single"
        ws.set_review_policy(rule)
        want = {"r6": "reject", **EXPECTED[rule]}
        if rule == "owner:ben":
            want["r3"] = "reject"  # ben did not decide r3: the proposal stands
        assert ws.statuses() == want
        assert ws.statuses_of(["r1", "r3", "r9"]) == {"r1": want["r1"], "r3": want["r3"], "r9": "pending"}
        assert {r: ws.decision(r)["status"] for r in want} == want
        assert ws.reasons()["r1"] == (want["r1"], "manual")
        for rid, votes in TABLE.items():  # derive() alone agrees with the workspace
            got = derive([(by, s, float(t)) for t, (by, s) in enumerate(votes)], parse_rule(rule))
            assert got == want.get(rid) or (got is None and want[rid] == "reject")


def test_rules_are_checked():
    assert parse_rule(" owner:ana ") == "owner:ana"
    for bad in ("most", "owner:", "owner:a b"):
        with pytest.raises(ValueError):
            parse_rule(bad)


def test_v1_decisions_become_the_login_names(tmp_path):
    path = tmp_path / "old.sqlite"
    with Workspace.open(path) as ws:
        ws.decide("a", "reject", by="user")
    con = sqlite3.connect(path)  # back to the pre-annotator layout: decisions by "user"
    con.executescript("DROP TABLE assignments; DROP INDEX steps_by; ALTER TABLE steps DROP COLUMN by;"
                      "UPDATE schema_version SET version = 4;")
    con.close()
    with Workspace.open(path) as ws:
        assert ws.decision("a")["by"] == default_annotator()
        ws.decide("a", "accept")  # the same person deciding again replaces, not adds
        assert [d["status"] for d in ws.annotations()] == ["accept"]
        assert ws.undo() == ["a"] and ws.decision("a")["status"] == "reject"
        assert ws.undo() == ["a"] and ws.decision("a") is None


def test_session_counts_and_export_follow_the_policy(data, tmp_path):
    ws_path = tmp_path / "ws.sqlite"
    ds = Dataset.open([str(data)])
    ana, ben = Session(ds, Workspace.for_dataset(ds, ws_path), user="ana"), None
    ana.decide(["ex-0", "ex-1", "ex-2"], "reject")
    ben = Session(ds, Workspace.for_dataset(ds, ws_path), user="ben")
    ben.decide(["ex-1", "ex-2"], "accept")
    ben.set_review_policy("majority")
    ben.decide(["ex-2"], "reject")  # ana and ben agree on ex-2 now: counted at once
    assert ben.counts() == {"accept": 0, "reject": 2, "pending": 8}  # ex-0 (ana alone), ex-2
    assert ben.review_progress()["reviewed"] == 2  # ex-1, split one to one, waits for a majority
    ana.reload()
    assert ana.counts() == ben.counts()
    assert ana.select("status=reject") == ["ex-0", "ex-2"]
    out = tmp_path / "out.jsonl"
    ana.export("openai", out)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [
        f"ex-{i}" for i in range(10) if i not in (0, 2)]
    ben.set_review_policy("owner:ben")
    ana.reload()  # another session sees the policy after its reload
    assert ana.counts() == {"accept": 1, "reject": 1, "pending": 8}
    assert ana.review_progress()["reviewed"] == 2  # ben's two; ana's ex-0 does not count now
    ana.close()
    ben.close()


def test_cli_user_flag_review_policy_and_status(data, tmp_path, capsys):
    ws = str(tmp_path / "ws.sqlite")
    common = [str(data), "--workspace", ws]
    assert main(["decide", *common, "--row", "ex-1", "--reject", "--user", "ana"]) == 0
    assert main(["decide", *common, "--row", "ex-1", "--accept", "--user", "ben"]) == 0
    assert main(["decide", *common, "--row", "ex-3", "--reject"]) == 0  # the login name
    assert "by ana" in capsys.readouterr().out.splitlines()[0]
    assert main(["review-policy", *common, "--rule", "unanimous"]) == 0
    assert "accept 0   reject 1   pending 9" in capsys.readouterr().out
    assert main(["review-policy", *common]) == 0
    assert capsys.readouterr().out.startswith("review policy: unanimous   annotators: ana, ben")
    assert main(["undo", *common, "--user", "ben"]) == 0
    assert "ex-1 -> reject" in capsys.readouterr().out  # ana's decision alone is unanimous
    assert main(["review-policy", *common, "--rule", "most"]) == 2
    assert "expected one of single, majority" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["decide", *common, "--row", "ex-1", "--accept", "--user", "a,b"])
