"""How far to trust a score: its agreement with a person's own accept/reject decisions.

Over the rows a person has accepted or rejected (workspace decisions, not proposals) that
have the numeric signal `score`, each threshold t reads "accept when score >= t"; the report
gives, at the threshold that agrees with the person most often (ties: the higher Cohen's
kappa, then the lower t):
- `agreement`: share of decided rows where score and person agree;
- `kappa`: Cohen's kappa (agreement corrected for chance; scikit-learn's cohen_kappa_score);
- `roc_auc`: how well the score ranks accepted rows above rejected ones, whatever the
  threshold (scikit-learn's roc_auc_score; None when the person made only one kind of decision);
- `threshold`, and the counts of the confusion table at it.
Rows where the score disagrees with the person at that threshold get the signal
`judge_agreement.disagrees` = true (filter Browse by it to look at them first).
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.ops.base import Context, Operation, ParamError, Params, Result, param
from workbench.ops.scores import numeric, signal_scores

OP = "judge-agreement"


def agreement_report(scores: list[float], accepted: list[bool]) -> dict:
    """Agreement, kappa, ROC AUC and the best threshold of `scores` against `accepted` (same order)."""
    from sklearn.metrics import cohen_kappa_score, roc_auc_score

    n = len(scores)
    best = None
    for t in sorted(set(scores)):
        pred = [s >= t for s in scores]
        agree = sum(p == a for p, a in zip(pred, accepted)) / n
        kappa = float(cohen_kappa_score(accepted, pred)) if len(set(pred)) > 1 or len(set(accepted)) > 1 else 1.0
        key = (agree, kappa if kappa == kappa else -1.0, -t)  # kappa is NaN when both sides are constant
        if best is None or key > best[0]:
            best = (key, t, pred, kappa)
    _, t, pred, kappa = best
    auc = float(roc_auc_score(accepted, scores)) if len(set(accepted)) == 2 else None
    table = {"accept_accepted": sum(p and a for p, a in zip(pred, accepted)),
             "accept_rejected": sum(p and not a for p, a in zip(pred, accepted)),
             "reject_accepted": sum(not p and a for p, a in zip(pred, accepted)),
             "reject_rejected": sum(not p and not a for p, a in zip(pred, accepted))}
    return {"rows": n, "accepted": sum(accepted), "rejected": n - sum(accepted), "threshold": t,
            "agreement": round(best[0][0], 4), "kappa": round(kappa, 4), "roc_auc": None if auc is None else round(auc, 4),
            "confusion": table, "predicted": pred}


@dataclass
class AgreementParams(Params):
    score: str = param("judge.score", help="the numeric signal to compare with your decisions")

    def validate(self) -> None:
        super().validate()
        if not self.score:
            raise ParamError("score must name a signal, e.g. judge.score")


class JudgeAgreement(Operation):
    name = OP
    Params = AgreementParams
    scope = "dataset"

    def run(self, ds, params: AgreementParams, ctx: Context, rows=None) -> Result:
        values = signal_scores(ctx.ws, params.score, OP)
        wanted = set(rows) if rows is not None else None
        ids, scores, accepted = [], [], []
        for d in ctx.ws.person_decisions():
            rid, s = d["row_id"], numeric(values.get(d["row_id"]))
            if d["status"] in ("accept", "reject") and s is not None and (wanted is None or rid in wanted):
                ids.append(rid)
                scores.append(s)
                accepted.append(d["status"] == "accept")
        if len(ids) < 2:
            raise ValueError(f"judge-agreement needs at least 2 rows you accepted or rejected that have {params.score}; "
                             f"found {len(ids)}")
        rep = agreement_report(scores, accepted)
        disagree = [rid for rid, p, a in zip(ids, rep.pop("predicted"), accepted) if p != a]
        auc = "n/a (only one kind of decision)" if rep["roc_auc"] is None else f"{rep['roc_auc']:.3f}"
        return Result(OP, params.to_dict(), signals=[(rid, "judge_agreement.disagrees", True) for rid in disagree],
                      report={"op": OP, "score": params.score, **rep, "disagreements": disagree},
                      summary=(f"{params.score} vs your {rep['rows']} decisions ({rep['accepted']} accepted, "
                               f"{rep['rejected']} rejected): accept when {params.score} >= {rep['threshold']:g} agrees "
                               f"on {rep['agreement']:.1%}, Cohen's kappa {rep['kappa']:.3f}, ROC AUC {auc}; "
                               f"{len(disagree)} disagreements (signal judge_agreement.disagrees)"))
