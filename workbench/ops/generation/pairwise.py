"""Pairwise judging of preference pairs, run in both orders to cancel position bias.

Each preference row is judged twice: chosen as response A and rejected as B, then swapped
(the swap of MT-Bench's pairwise judge, Zheng et al., 2023). The verdicts, mapped back to
the sides, give `pairwise.winner`: "chosen" or "rejected" when both orders agree, "tie" when
both say tie, "inconsistent" when the orders disagree (the judge followed the position, not
the content). `pairwise.score` is 1 / 0.5 / 0 (chosen / tie or inconsistent / rejected), a
number other tools can threshold; `pairwise.orders` keeps the two raw verdicts.

The report counts each outcome and `first_position_rate`: the share of decisive verdicts
that picked response A. Every pair is shown in both orders, so an unbiased judge picks A
half the time; `position_bias` is flagged when the rate is 0.2 or more away from 0.5.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from workbench.data.record import Record
from workbench.llm.prompts import render
from workbench.ops.base import Result, param
from workbench.ops.generation.common import (
    GenerationError, LLMOperation, LLMParams, errors_of, instruction, rows_with_turns, run_rows,
)
from workbench.ops.generation.judge import STRUCTURED, use_structured
from workbench.ops.generation.verdicts import parse_preference

OP = "judge-pairwise"
BIAS_MARGIN = 0.2
PREFERENCE_SCHEMA = {"type": "json_schema", "json_schema": {"name": "judge_preference", "strict": True, "schema": {
    "type": "object", "additionalProperties": False, "required": ["rationale", "winner"],
    "properties": {"rationale": {"type": "string"}, "winner": {"type": "string", "enum": ["A", "B", "tie"]}}}}}
SCORE = {"chosen": 1.0, "rejected": 0.0, "tie": 0.5, "inconsistent": 0.5}


def _side_text(turns) -> str:
    return "\n\n".join(t.get("content") or "" for t in turns or [] if t.get("role") == "assistant").strip()


def compare(client, task: str, a: str, b: str, overrides: dict | None = None, *, structured: bool = False) -> str:
    """"A", "B" or "tie" for one order of one pair (greedy)."""
    msgs = [{"role": "user", "content": render("pairwise", overrides, instruction=task, response_a=a,
                                               response_b=b, structured=structured)}]
    fmt = {"response_format": PREFERENCE_SCHEMA} if structured else {}
    out = client.complete(msgs, temperature=0.0, n=1, validate=parse_preference, **fmt)
    return parse_preference(out["text"])[0]


def combine(first: str, second: str) -> str:
    """The winner from the verdicts of (chosen as A) and (chosen as B)."""
    as_side = lambda v, chosen_pos: "tie" if v == "tie" else ("chosen" if v == chosen_pos else "rejected")  # noqa: E731
    one, two = as_side(first, "A"), as_side(second, "B")
    return one if one == two else "inconsistent"


def judge_pairwise(records: Sequence[Record], client, ws, *, structured: str = "auto", concurrency: int = 4,
                   on_event=None, cancel=None, overrides: dict | None = None) -> Result:
    usable, errors = rows_with_turns(records)
    items = []
    for r in usable:
        chosen, rejected = _side_text(r.get("chosen")), _side_text(r.get("rejected"))
        if not chosen or not rejected:
            errors[r["id"]] = "not a preference pair (needs a chosen and a rejected answer)"
            continue
        items.append((r["id"], {"instruction": instruction(r), "chosen": chosen, "rejected": rejected}))
    as_json = use_structured(client, structured)

    def run(p: dict) -> dict:
        try:
            first = compare(client, p["instruction"], p["chosen"], p["rejected"], overrides, structured=as_json)
            second = compare(client, p["instruction"], p["rejected"], p["chosen"], overrides, structured=as_json)
        except GenerationError as e:
            raise GenerationError(f"pairwise: {e}") from None
        return {"orders": [first, second], "winner": combine(first, second)}

    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "structured": as_json,
                                                "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, [rid for rid, _ in items]))
    signals = []
    for rid, res in job.results.items():
        signals += [(rid, "pairwise.winner", res["winner"]), (rid, "pairwise.score", SCORE[res["winner"]]),
                    (rid, "pairwise.orders", res["orders"])]
    outcomes = Counter(res["winner"] for res in job.results.values())
    decisive = [v for res in job.results.values() for v in res["orders"] if v != "tie"]
    rate = sum(v == "A" for v in decisive) / len(decisive) if decisive else None
    report = {"outcomes": dict(outcomes), "first_position_rate": rate,
              "position_bias": rate is not None and abs(rate - 0.5) >= BIAS_MARGIN,
              "inconsistent_rows": sorted(rid for rid, res in job.results.items() if res["winner"] == "inconsistent")}
    return Result(OP, {}, signals=signals, rows=[r for r in usable if r["id"] in job.results], errors=errors,
                  job_id=job.job_id, status=job.status, usage=dict(client.usage), report=report)


@dataclass
class PairwiseParams(LLMParams):
    structured: str = param("auto", choices=STRUCTURED,
                            help="JSON-schema output: auto (where the provider supports it), on, off")


class JudgePairwise(LLMOperation):
    name = "judge-pairwise"
    Params = PairwiseParams

    def describe(self, result) -> str:
        r = result.report
        judged = sum(r["outcomes"].values())
        o = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())) or "none"
        lines = [f"compared {judged} pairs in both orders with {result.params['model']} (job {result.job_id}); "
                 f"{len(result.errors)} failed", f"  outcomes: {o}"]
        if r["first_position_rate"] is not None:
            lines.append(f"  response A chosen in {r['first_position_rate']:.0%} of decisive verdicts"
                         + (" - POSITION BIAS: do not trust single-order verdicts of this judge"
                            if r["position_bias"] else " (no position bias detected)"))
        lines += [f"  error {rid}: {why}" for rid, why in list(result.errors.items())[:20]]
        return "\n".join(lines)

    def generate(self, records, client, ws, params, overrides, ctx):
        return judge_pairwise(records, client, ws, structured=params.structured, concurrency=params.concurrency,
                              on_event=ctx.on_event, cancel=ctx.cancel, overrides=overrides)
