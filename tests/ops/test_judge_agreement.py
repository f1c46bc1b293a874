"""judge-agreement on hand-made decisions: figures worked out by hand."""

from __future__ import annotations

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.ops import registry
from workbench.ops.base import Context, apply_result

# row: (judge.score, the person's decision)
DECIDED = {"r0": (5, "accept"), "r1": (4, "accept"), "r2": (4, "reject"), "r3": (3, "accept"),
           "r4": (2, "reject"), "r5": (1, "reject")}


def test_agreement_kappa_auc_and_threshold_against_hand_computed_figures(ws):
    ids = [*DECIDED, "r6", "r7", "r8"]
    ds = Dataset.from_records(make_record(id=r, messages=[{"role": "user", "content": r}]) for r in ids)
    ws.save_run("judge", {}, signals=[(r, "judge.score", s) for r, (s, _) in DECIDED.items()]
                + [("r6", "judge.score", 5), ("r7", "judge.score", 1)], rejects={"r7": "a proposal, not a person"})
    for r, (_, status) in DECIDED.items():
        ws.decide(r, status)
    ws.decide("r6", "pending")  # undecided: left out
    ws.decide("r8", "accept")  # no score: left out
    op = registry.get("judge-agreement")
    res = op.run(ds, op.params_from_dict({"score": "judge.score"}), Context(ws=ws))
    rep = res.report
    # accept when score >= 3: wrong only on r2 (4, rejected)
    assert (rep["rows"], rep["accepted"], rep["rejected"], rep["threshold"]) == (6, 3, 3, 3)
    assert rep["agreement"] == pytest.approx(5 / 6, abs=1e-4)
    assert rep["kappa"] == pytest.approx(2 / 3, abs=1e-4)  # po 5/6, pe 1/2
    assert rep["roc_auc"] == pytest.approx(7.5 / 9, abs=1e-4)  # 7 wins and one tie in 9 pairs
    assert rep["confusion"] == {"accept_accepted": 3, "accept_rejected": 1, "reject_accepted": 0, "reject_rejected": 2}
    assert rep["disagreements"] == ["r2"] and res.signals == [("r2", "judge_agreement.disagrees", True)]
    assert "Cohen's kappa 0.667" in res.summary
    apply_result(ws, res)
    assert ws.signal_values("judge_agreement.disagrees") == {"r2": True}


def test_one_kind_of_decision_has_no_auc_and_too_few_rows_is_an_error(ws):
    ds = Dataset.from_records(make_record(id=r, messages=[{"role": "user", "content": r}]) for r in ("a", "b", "c"))
    ws.save_run("judge", {}, signals=[("a", "judge.score", 4), ("b", "judge.score", 2), ("c", "judge.score", 5)])
    op = registry.get("judge-agreement")
    ws.decide("a", "accept")
    with pytest.raises(ValueError, match="at least 2 rows"):
        op.run(ds, op.default_params(), Context(ws=ws))
    ws.decide("c", "accept")
    rep = op.run(ds, op.default_params(), Context(ws=ws)).report
    assert rep["roc_auc"] is None and rep["agreement"] == 1.0
    with pytest.raises(ValueError, match="no signal 'nope'"):
        op.run(ds, op.params_from_dict({"score": "nope"}), Context(ws=ws))
