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


def test_reject_below_is_a_recipe_step_that_undo_takes_back_and_replay_runs(ds, ws, tmp_path):
    from workbench.recipes.recipe import from_workspace
    from workbench.recipes.replay import replay
    from workbench.store.workspace import Workspace

    def scored(w):  # signals of a run that is not a recipe step (no log)
        w.add_signals(w.start_run("judge"), [(r, "judge.score", v) for r, v in SCORES.items()]
                      + [("r2", "other.score", 0.1)])

    scored(ws)
    s = Session(ds, ws)

    def steps():
        return [(st.op, st.params) for st in from_workspace(ws, ds).steps]

    s.reject_below("judge.score", 3)
    assert steps() == [("reject-below", {"signal": "judge.score", "below": 3})]
    s.undo()
    assert steps() == [] and s.counts()["reject"] == 0
    s.redo()
    assert steps() == [("reject-below", {"signal": "judge.score", "below": 3})] and s.counts()["reject"] == 3  # r0, r1, r5
    # a threshold that rejects nothing here is still a step (other data may have rows below it);
    # the rows below 3 stay rejected, so the step keeps 3 in force for a replay
    assert s.reject_below("judge.score", 0.5) == [] and s.counts()["reject"] == 3
    assert steps()[-1] == ("reject-below", {"signal": "judge.score", "below": 3})
    s.reject_below("other.score", 0.5)
    assert steps()[-1] == ("reject-below", {"signal": "other.score", "below": 0.5})
    # the recipe replays it on another workspace: the same rows end up rejected (as proposals)
    with Workspace.open(tmp_path / "other.sqlite") as other:
        scored(other)
        reports = replay(from_workspace(ws, ds), ds, other)
        assert [r.status for r in reports] == ["done", "skipped", "done"]  # step 2 repeats step 1
        rejected = sorted(r for r, st in other.statuses().items() if st == "reject")
    assert rejected == sorted(r for r, st in s.statuses.items() if st == "reject") == ["r0", "r1", "r2", "r5"]
