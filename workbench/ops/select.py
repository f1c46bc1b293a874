"""Data selection in the way of DEITA (Liu et al., 2024, "What makes good data for alignment"):
rank rows by a score, then take them greedily, best first, skipping a row whose embedding is
too close to one already taken (the paper's representation filter), until the budget is met.

Scores: `--by score:NAME` reads the numeric signal NAME from the workspace (a judge's
`judge.score`, a heuristic, a reward model's score...); `--by deita` multiplies the signals
`deita.complexity` and `deita.quality`, as DEITA's evol score does (both must be in the
workspace). Embeddings are the cached sentence embeddings of workbench.explore.embed (the
bundled all-MiniLM-L6-v2 by default), normalised, so closeness is cosine similarity.

The result is proposed rejections with reasons, reviewable like any other proposal:
"not selected: too close to row X (cosine 0.97 > 0.90)", "not selected: over budget (rank 812
by judge.score)", "not selected: no judge.score". Selected rows get the signal `select.rank`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.data.record import TEXT_VIEWS
from workbench.ops.base import Context, Operation, Params, ParamError, Result, param, subset
from workbench.ops.scores import numeric, signal_scores

OP = "select"
DEITA = ("deita.complexity", "deita.quality")


def greedy_select(ids: list[str], scores: list[float | None], emb: np.ndarray, budget: int, threshold: float,
                  score_name: str) -> tuple[dict[str, int], dict[str, str]]:
    """({row id: rank among the selected (1 = best)}, {row id: why not selected}).

    `emb`: one row per id, any scale (normalised here); `threshold`: the cosine similarity
    above which a row counts as a near-duplicate of a selected one (1.0: no diversity filter).
    Ties in score keep the dataset's order."""
    unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    order = sorted((i for i, s in enumerate(scores) if s is not None), key=lambda i: -scores[i])
    chosen = np.empty((min(budget, len(order)), unit.shape[1]), dtype=unit.dtype)
    chosen_ids: list[str] = []
    selected, rejected = {}, {}
    for rank, i in enumerate(order, 1):
        if len(chosen_ids) >= budget:
            rejected[ids[i]] = f"not selected: over budget (rank {rank} by {score_name}, budget {budget})"
            continue
        if chosen_ids:
            sims = chosen[: len(chosen_ids)] @ unit[i]
            j = int(np.argmax(sims))
            if sims[j] > threshold:
                rejected[ids[i]] = (f"not selected: too close to row {chosen_ids[j]} "
                                    f"(cosine {sims[j]:.2f} > {threshold:.2f})")
                continue
        chosen[len(chosen_ids)] = unit[i]
        chosen_ids.append(ids[i])
        selected[ids[i]] = len(chosen_ids)
    for i, s in enumerate(scores):
        if s is None:
            rejected[ids[i]] = f"not selected: no {score_name}"
    return selected, rejected


@dataclass
class SelectParams(Params):
    budget: int = param(1000, help="rows to select")
    by: str = param("deita", help="deita (deita.complexity x deita.quality) or score:NAME (a numeric signal)")
    diversity: float = param(0.9, help="cosine similarity above which a row is too close to a selected one "
                                       "(1.0: no diversity filter)")
    view: str = param("all", choices=tuple(TEXT_VIEWS), help="which text of a row to embed")
    model: str | None = param(None, help="a local sentence-transformers model directory (default: the bundled "
                                         "all-MiniLM-L6-v2)")

    def validate(self) -> None:
        super().validate()
        if self.budget < 1:
            raise ParamError("budget must be at least 1")
        if not (self.by == "deita" or (self.by.startswith("score:") and self.by[6:])):
            raise ParamError(f"by must be deita or score:NAME, not {self.by!r}")
        if not 0 < self.diversity <= 1:
            raise ParamError("diversity must be a cosine similarity in (0, 1]")


def scores_of(ws, by: str, ids: list[str]) -> tuple[str, list[float | None]]:
    """(the score's name, its value per id) from the workspace's signals."""
    if by.startswith("score:"):
        name = by[6:]
        values = signal_scores(ws, name, OP)
        return name, [numeric(values.get(r)) for r in ids]
    parts = [ws.signal_values(n) for n in DEITA]
    missing = [n for n, v in zip(DEITA, parts) if not v]
    if missing:
        raise ValueError(f"--by deita needs the signals {' and '.join(DEITA)}; missing: {', '.join(missing)} "
                         f"(or choose --by score:NAME)")
    out = []
    for r in ids:
        c, q = numeric(parts[0].get(r)), numeric(parts[1].get(r))
        out.append(c * q if c is not None and q is not None else None)
    return "deita score", out


class Select(Operation):
    name = OP
    Params = SelectParams
    scope = "dataset"

    def run(self, ds, params: SelectParams, ctx: Context, rows: list[str] | None = None) -> Result:
        from workbench.explore.embed import embed_dataset

        if ctx.ws is None:
            raise ValueError("select reads scores from the workspace: it cannot run without one")
        part = subset(ds, rows)
        ids = list(part.ids)
        score_name, scores = scores_of(ctx.ws, params.by, ids)
        ctx.say("embedding")
        emb = embed_dataset(part, None, view=params.view, model=params.model, on_stage=ctx.say,
                            progress=lambda done, total: (ctx.check(), ctx.report(done, total)))
        ctx.check()
        selected, rejects = greedy_select(ids, scores, emb, params.budget, params.diversity, score_name)
        close = sum(1 for why in rejects.values() if "too close" in why)
        over = sum(1 for why in rejects.values() if "over budget" in why)
        unscored = sum(1 for s in scores if s is None)
        return Result(OP, params.to_dict(), signals=[(rid, "select.rank", k) for rid, k in selected.items()],
                      rejects=rejects,
                      report={"op": OP, "rows": len(ids), "selected": len(selected), "too_close": close,
                              "over_budget": over, "unscored": unscored},
                      summary=f"selected {len(selected)} of {len(ids)} rows by {score_name} (budget {params.budget}); "
                              f"proposed rejections: {close} too close to a selected row, {over} over budget, "
                              f"{unscored} without a score")
