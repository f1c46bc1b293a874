"""Reject all below X: one undo step in the Session, proposed rejections as an operation."""

from __future__ import annotations

import pytest

from workbench.ops import registry
from workbench.ops.base import Context, ParamError
from workbench.session import Session

SCORES = {"r0": 1, "r1": 2.5, "r2": 3, "r3": 4, "r4": "n/a", "r5": 2, "nope": 1}


def test_reject_below_is_one_undo_step_and_keeps_a_persons_decisions(ds, ws):
    ws.save_run("judge", {}, signals=[(r, "judge.score", v) for r, v in SCORES.items()])
    s = Session(ds, ws)
    s.decide(["r5"], "accept")  # the person's own decision stands
    ids = s.reject_below("judge.score", 3)
    assert sorted(ids) == ["r0", "r1"]  # not r2 (= 3), r4 (no number), r5 (decided), nope (not a row)
    assert s.counts()["reject"] == 2 and ws.decision("r0")["note"] == "judge.score < 3"
    assert sorted(s.undo()) == ["r0", "r1"]
    assert s.counts() == {"accept": 1, "reject": 0, "pending": len(ds) - 1}
    assert s.status("r5") == "accept"


def test_reject_below_operation_proposes_with_reasons(ds, ws):
    ws.save_run("judge", {}, signals=[(r, "judge.score", v) for r, v in SCORES.items()])
    op = registry.get("reject-below")
    res = op.run(ds, op.params_from_dict({"signal": "judge.score", "below": 2.5}), Context(ws=ws))
    assert res.rejects == {"r0": "judge.score 1 < 2.5", "r5": "judge.score 2 < 2.5"}
    with pytest.raises(ParamError, match="below is required"):
        op.params_from_dict({"signal": "judge.score"})
