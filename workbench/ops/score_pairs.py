"""Best-of-N preference pairs from any score: rows that answer the same prompt (N answers per
prompt, from N samples of a model or several models) become one preference pair, the
best-scored answer `chosen` and a lower one `rejected`, as rejection-sampling recipes build
DPO data (e.g. the Llama 2 and Tülu 3 reports: best and worst of N by a reward model or judge).

Rows group by their prompt: the turns up to the last user turn, with the system prompt, text
compared exactly. The score is any numeric signal in the workspace (`judge.score`,
`reward.score`, `deita.score`, a heuristic...). In each group of two or more scored answers:
- `pick worst`: the lowest-scored answer is rejected;
- `pick random`: one answer drawn (seeded per prompt: the same draw whatever the row order)
  among those at least `margin` below the best.
A pair needs best − rejected ≥ `margin` and > 0 (equal scores say nothing about preference);
groups without one are listed as dropped, with the scores. Ties for best or worst go to the
row that comes first. The new rows carry `meta.provenance` {operation, model: "score:NAME",
parent: the chosen row, chosen, rejected (row ids), chosen_score, rejected_score} and go to
the Gen pane for review; `-o OUT` writes them (a preference format: `--to trl`, or the input's
own when it holds pairs).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from workbench.data.record import Record
from workbench.ops.base import Context, Operation, ParamError, Params, Result, param, records_of
from workbench.ops.generation.common import GenerationError, last_user_index, provenance
from workbench.ops.scores import numeric, signal_scores

OP = "best-of-n-pairs"
PICKS = ("worst", "random")


def prompt_and_answer(rec: Record) -> tuple[str, list[dict]] | None:
    """(the group key of the row's prompt, the turns that answer it), or None for a row with
    no user turn or no answer after it."""
    try:
        last = last_user_index(rec)
    except GenerationError:
        return None
    msgs = rec["messages"]
    reply = list(rec.get("chosen") or []) if rec.get("kind") == "preference" else msgs[last + 1:]
    if not reply:
        return None
    key = json.dumps([rec.get("system") or ""] + [[t.get("role"), (t.get("content") or "").strip()]
                                                   for t in msgs[: last + 1]], ensure_ascii=False)
    return key, reply


def choose_pair(scored: list[tuple[float, int]], pick: str, margin: float, rng: random.Random
                ) -> tuple[int, int] | None:
    """(best, rejected) positions among `scored` [(score, position)], or None when no answer
    is far enough below the best."""
    best = max(scored, key=lambda s: (s[0], -s[1]))
    lower = [s for s in scored if s[0] < best[0] and best[0] - s[0] >= margin]
    if not lower:
        return None
    if pick == "worst":
        other = min(lower, key=lambda s: (s[0], s[1]))
    else:
        other = rng.choice(sorted(lower, key=lambda s: s[1]))
    return best[1], other[1]


@dataclass
class PairsParams(Params):
    score: str = param("judge.score", help="the numeric signal that ranks the answers of a prompt")
    pick: str = param("worst", choices=PICKS, help="rejected answer: the worst, or a random one at least "
                                                   "--margin below the best")
    margin: float = param(0.0, help="smallest score difference between chosen and rejected")
    seed: int = param(0, help="seed of the random pick")

    def validate(self) -> None:
        super().validate()
        if self.margin < 0:
            raise ParamError("margin must be 0 or more")


class ScorePairs(Operation):
    name = OP
    Params = PairsParams
    scope = "dataset"
    review = True

    def run(self, ds, params: PairsParams, ctx: Context, rows: list[str] | None = None) -> Result:
        values = signal_scores(ctx.ws, params.score, OP)
        groups: dict[str, list[tuple[Record, list[dict], float]]] = {}
        no_answer = unscored = 0
        for batch in records_of(ds, rows):
            ctx.check()
            for rec in batch:
                found = prompt_and_answer(rec)
                score = numeric(values.get(rec["id"]))
                if found is None:
                    no_answer += 1
                elif score is None:
                    unscored += 1
                else:
                    groups.setdefault(found[0], []).append((rec, found[1], score))
        result = Result(OP, params.to_dict())
        single = 0
        for key, members in groups.items():
            if len(members) < 2:
                single += 1
                continue
            rng = random.Random(f"{params.seed}\0{key}")
            pair = choose_pair([(s, i) for i, (_, _, s) in enumerate(members)], params.pick, params.margin, rng)
            if pair is None:
                shown = ", ".join(f"{r['id']} {s:g}" for r, _, s in members)
                result.dropped[members[0][0]["id"]] = (f"no answer at least {params.margin:g} below the best "
                                                       f"by {params.score}: {shown}")
                continue
            (best, chosen, hi), (worse, rejected, lo) = members[pair[0]], members[pair[1]]
            result.rows.append(_pair_row(best, worse, chosen, rejected, hi, lo, params))
        n = sum(len(m) for m in groups.values())
        result.report = {"op": OP, "rows": n + no_answer + unscored, "prompts": len(groups), "pairs": len(result.rows),
                         "single_answer_prompts": single, "no_margin": len(result.dropped),
                         "unscored": unscored, "no_answer": no_answer}
        result.summary = (f"{len(result.rows)} preference pairs by {params.score} ({params.pick}, margin "
                          f"{params.margin:g}) from {len(groups)} prompts; {single} with one answer, "
                          f"{len(result.dropped)} without a margin, {unscored} rows without a score")
        return result


def _pair_row(best: Record, worse: Record, chosen: list[dict], rejected: list[dict], hi: float, lo: float,
              params: PairsParams) -> Record:
    out = provenance(best, OP, f"score:{params.score}", chosen=best["id"], rejected=worse["id"],
                     chosen_score=hi, rejected_score=lo, pick=params.pick, margin=params.margin)
    out.update(id=f"{best['id']}>{worse['id']}", kind="preference", label=None, chosen=chosen, rejected=rejected,
               messages=out["messages"][: last_user_index(best) + 1])
    return out
