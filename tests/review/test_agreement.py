"""Agreement figures (textbook examples and a hand-made overlap in a real workspace), the
`conflict` and `mine` filters, assignment with overlap, and progress per annotator."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.data.dataset import Dataset
from workbench.explore.agreement import agreement, cohen_kappa, fleiss_kappa
from workbench.session import Session
from workbench.store.workspace import Workspace
from workbench.views import parse_filter

# Fleiss (1971) as Wikipedia's "Fleiss' kappa" article works it: 10 items, 14 raters, 5
# categories; P = 0.378, P_e = 0.213, kappa = 0.210.
FLEISS_TABLE = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_fleiss_kappa_on_the_textbook_table():
    got = fleiss_kappa(FLEISS_TABLE)
    assert got["items"] == 10
    assert got["observed"] == pytest.approx(0.378, abs=5e-4)
    assert got["expected"] == pytest.approx(0.213, abs=5e-4)
    assert got["kappa"] == pytest.approx(0.210, abs=5e-4)
    assert fleiss_kappa([[2, 0], [3, 0]])["kappa"] is None  # one label only: undefined


def test_cohen_kappa_on_the_textbook_table():
    # Wikipedia's "Cohen's kappa" example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> 0.4.
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(["y", "y"], ["y", "y"]) is None


# A hand-made overlap: row -> annotator -> decision (r7's pending is no vote; r8 has one rater).
OVERLAP = {
    "ex-1": {"ana": "accept", "ben": "accept", "chen": "accept"},
    "ex-2": {"ana": "accept", "ben": "reject", "chen": "accept"},
    "ex-3": {"ana": "reject", "ben": "reject", "chen": "reject"},
    "ex-4": {"ana": "reject", "ben": "accept"},
    "ex-5": {"ana": "accept", "chen": "reject"},
    "ex-6": {"ben": "accept", "chen": "accept"},
    "ex-7": {"ana": "accept", "chen": "pending"},
    "ex-8": {"ben": "reject"},
}


def _decide_overlap(ws):
    for rid, by in OVERLAP.items():
        for who, status in by.items():
            ws.decide(rid, status, by=who)


def test_agreement_on_a_hand_made_overlap(data, tmp_path, capsys):
    wsp = tmp_path / "ws.sqlite"
    ds = Dataset.open([str(data)])
    session = Session(ds, Workspace.for_dataset(ds, wsp))
    _decide_overlap(session.ws)
    session.ws.decide("not-a-row", "reject", by="ana")  # another dataset's id: not counted
    session.ws.decide("not-a-row", "accept", by="ben")
    report = session.agreement()
    assert report["items"] == 6 and report["raters"] == ["ana", "ben", "chen"]
    pairs = {(p["a"], p["b"]): (p["items"], p["agreement"], p["cohen_kappa"]) for p in report["pairs"]}
    # worked by hand: p_o and p_e = sum over labels of the product of each one's share
    assert pairs[("ana", "ben")] == pytest.approx((4, 0.5, 0.0))
    assert pairs[("ana", "chen")] == pytest.approx((4, 0.75, 0.5))
    assert pairs[("ben", "chen")] == pytest.approx((4, 0.75, 0.5))
    # Fleiss: P = (1 + 1/3 + 1 + 0 + 0 + 1) / 6 = 5/9; P_e = 0.6^2 + 0.4^2 = 0.52; kappa = 2/27
    assert report["overall"]["agreement"] == pytest.approx(5 / 9)
    assert report["overall"]["fleiss_kappa"] == pytest.approx(2 / 27)
    assert agreement({"x": {"a": 1}})["items"] == 0
    session.set_filters(parse_filter("conflict"))
    assert session.view_ids() == ["ex-2", "ex-4", "ex-5"]
    session.close()

    assert main(["agreement", str(data), "--workspace", str(wsp), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(report))
    assert main(["agreement", str(data), "--workspace", str(wsp)]) == 0
    out = capsys.readouterr().out
    assert "6 rows decided by two or more of ana, ben, chen" in out
    assert "overall: agreement 0.556   Fleiss' kappa 0.074" in out
    assert "ana / chen: 4 rows   agreement 0.750   Cohen's kappa 0.500" in out


def test_assign_with_overlap_mine_filter_and_progress(data, tmp_path, capsys):
    wsp = tmp_path / "ws.sqlite"
    ds = Dataset.open([str(data)])
    ana = Session(ds, Workspace.for_dataset(ds, wsp), user="ana")
    queues = ana.assign(["ana", "ben", "chen"], overlap=0.2, seed=7)
    assert sorted(r for q in queues.values() for r in q) != sorted(set(r for q in queues.values() for r in q))
    counts = {}
    for q in queues.values():
        for r in q:
            counts[r] = counts.get(r, 0) + 1
    assert sorted(counts) == [f"ex-{i}" for i in range(10)]  # every row, once or (2 of them) twice
    assert sorted(counts.values()) == [1] * 8 + [2] * 2
    assert [len(q) for q in queues.values()] == [4, 4, 4]
    assert ana.assign(["ana", "ben", "chen"], overlap=0.2, seed=7) == queues  # the seed fixes it
    ana.set_filters(parse_filter("mine status=pending"))
    assert ana.view_ids() == sorted(queues["ana"], key=lambda r: int(r[3:]))
    ana.decide(queues["ana"][:3], "accept")
    ana.decide([next(f"ex-{i}" for i in range(10) if f"ex-{i}" not in queues["ana"])], "reject")  # not hers
    ana.apply()  # a view keeps its rows until it is recomputed (the TUI's refilter)
    assert len(ana) == 1  # three of four done: one left in the queue
    assert ana.progress() == {"ana": {"assigned": 4, "done": 3, "decided": 4},
                              "ben": {"assigned": 4, "done": 0, "decided": 0},
                              "chen": {"assigned": 4, "done": 0, "decided": 0}}
    with pytest.raises(ValueError, match="two or more annotators"):
        ana.assign(["ana"], overlap=0.1)
    ana.close()

    common = [str(data), "--workspace", str(wsp)]
    assert main(["status", *common]) == 0
    out = capsys.readouterr().out
    assert "ana          3/4 assigned done   4 decided" in out and "ben          0/4 assigned done" in out
    # a filter: only kind=sft rows (all ten here) minus the decided ones
    assert main(["assign", *common, "--to", "dan,eve", "--filter", "status=pending"]) == 0
    assert capsys.readouterr().out.startswith("assigned 6 rows: dan 3   eve 3")
    assert main(["assign", *common, "--to", "dan", "--overlap", "0.5"]) == 2
    assert main(["status", *common, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["annotators"]["dan"]["assigned"] == 3 and status["annotators"]["ben"]["assigned"] < 4
