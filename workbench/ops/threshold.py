"""Reject every row whose score is below X: the rows, and the operation that proposes it.

`below(values, threshold)` is the one rule (the Session's one-step "reject all below X"
uses it too): rows whose signal is a number under the threshold; rows without the signal, or
with a non-numeric value, are never touched. As an operation (`reject-below`, a recipe step),
the rows become proposed rejections with the reason "judge.score 2 < 3", which never override
a person's decision and are replaced when it runs again on the same signal with another
threshold (a run on another signal keeps them: each signal's proposals are saved under
"reject-below SIGNAL").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.ops.base import Context, Operation, Params, ParamError, Result, param
from workbench.ops.scores import numeric, signal_scores

OP = "reject-below"


def below(values: dict[str, Any], threshold: float) -> dict[str, float]:
    """{row id: its score} of the rows whose numeric score is below `threshold`."""
    out = {}
    for rid, v in values.items():
        s = numeric(v)
        if s is not None and s < threshold:
            out[rid] = s
    return out


@dataclass
class RejectBelowParams(Params):
    signal: str = param("judge.score", help="the numeric signal to threshold")
    below: float | None = param(None, help="reject rows whose signal is below this value")

    def validate(self) -> None:
        super().validate()
        if self.below is None:
            raise ParamError("below is required: the threshold under which rows are rejected (--below X)")


class RejectBelow(Operation):
    name = OP
    Params = RejectBelowParams
    scope = "dataset"

    def run(self, ds, params: RejectBelowParams, ctx: Context, rows=None) -> Result:
        values = signal_scores(ctx.ws, params.signal, OP)
        keep = set(rows) if rows is not None else set(ds.ids)
        hits = {rid: s for rid, s in below(values, params.below).items() if rid in keep}
        return Result(f"{OP} {params.signal}", params.to_dict(),
                      rejects={rid: f"{params.signal} {s:g} < {params.below:g}" for rid, s in hits.items()},
                      report={"op": OP, "rows": len(keep), "rejected": len(hits)},
                      summary=f"{len(hits)} of {len(keep)} rows have {params.signal} < {params.below:g}: "
                              f"proposed rejections")
