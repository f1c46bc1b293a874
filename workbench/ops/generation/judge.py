"""LLM-as-judge, UltraFeedback style: a 1-5 rating with a rationale per chosen aspect.

One call per row and aspect. The reply must contain `Rating: N` with N a number from 1 to 5;
anything else (no rating, a word, 0, 7) is an error on that row with the reply quoted — a
row never gets a silent null and a bad reply never stops the batch. Ratings become signals
`judge.<aspect>` and their mean `judge.score`, which the Browse list can sort by; rationales
go in `judge.rationale` ({aspect: text}).
"""

from __future__ import annotations

import re
from typing import Sequence

from workbench.data.record import Record
from workbench.llm.prompts import JUDGE_RUBRICS, render
from workbench.ops.base import Result
from dataclasses import dataclass

from workbench.ops.base import param
from workbench.ops.generation.common import LLMOperation, LLMParams
from workbench.ops.generation.common import (
    GenerationError, answer, errors_of, instruction, rows_with_turns, run_rows,
)

OP = "judge"
DEFAULT_ASPECTS = ("helpfulness", "honesty", "instruction_following", "truthfulness")
_RATING = re.compile(r"rating\s*\**\s*[:=\-]?\s*\**\s*\[?\s*([^\s\]*/,;]+)", re.I)
_RATIONALE = re.compile(r"rationale\s*\**\s*[:=\-]?\s*\**\s*(.+)", re.I | re.S)
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def parse_rating(text: str) -> tuple[float, str]:
    """(rating, rationale) from a judge's reply; GenerationError saying what is wrong."""
    m = _RATING.search(text or "")
    if not m:
        raise GenerationError(f"no 'Rating:' in the judge's reply: {(text or '')[:100]!r}")
    raw = m.group(1).strip(".")
    if not _NUMBER.match(raw):
        raise GenerationError(f"rating is not a number: {raw!r}")
    value = float(raw)
    if not 1 <= value <= 5:
        raise GenerationError(f"rating {raw} is outside 1-5")
    r = _RATIONALE.search(text[m.end():]) or _RATIONALE.search(text)
    return value, (r.group(1).strip() if r else "")


def judge_messages(aspect: str, task: str, response: str, overrides: dict | None = None) -> list[dict]:
    rubric = JUDGE_RUBRICS.get(aspect, f"1 = very poor {aspect}; 5 = excellent {aspect}.")
    return [{"role": "user", "content": render("judge", overrides, aspect=aspect.replace("_", " "),
                                               rubric=rubric, instruction=task, response=response)}]


def rate(client, aspect: str, task: str, response: str, overrides: dict | None = None) -> tuple[float, str]:
    """One aspect's rating of one response. Greedy decoding: a judge should be repeatable."""
    out = client.complete(judge_messages(aspect, task, response, overrides), temperature=0.0, n=1,
                          validate=parse_rating)
    return parse_rating(out["text"])


def judge(records: Sequence[Record], client, ws, *, aspects: Sequence[str] = DEFAULT_ASPECTS,
          concurrency: int = 4, on_event=None, cancel=None, overrides: dict | None = None) -> Result:
    """Rate every row's answer: `judge.<aspect>`, `judge.score` and `judge.rationale` signals;
    `rows` holds the input rows that were rated (they are not new rows)."""
    aspects = [a.strip() for a in aspects if a.strip()]
    if not aspects:
        raise ValueError("judge needs at least one aspect")

    def run(payload: dict) -> dict:
        ratings, rationales = {}, {}
        for a in aspects:
            try:
                ratings[a], rationales[a] = rate(client, a, payload["instruction"], payload["answer"], overrides)
            except GenerationError as e:
                raise GenerationError(f"{a}: {e}") from None
        return {"ratings": ratings, "rationales": rationales, "score": sum(ratings.values()) / len(ratings)}

    usable, errors = rows_with_turns(records, need_answer=True)
    items = [(r["id"], {"instruction": instruction(r), "answer": answer(r)}) for r in usable]
    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "aspects": aspects,
                                                "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, [rid for rid, _ in items]))
    signals = []
    for rid, res in job.results.items():
        signals += [(rid, f"judge.{a}", v) for a, v in res["ratings"].items()]
        signals += [(rid, "judge.score", res["score"]), (rid, "judge.rationale", res["rationales"])]
    rows = [r for r in usable if r["id"] in job.results]
    return Result(OP, {}, signals=signals, rows=rows, errors=errors, job_id=job.job_id, status=job.status,
                  usage=dict(client.usage))


@dataclass
class JudgeParams(LLMParams):
    aspects: list[str] = param(factory=lambda: list(DEFAULT_ASPECTS),
                               help="comma-separated aspects (the four UltraFeedback ones)")


class Judge(LLMOperation):
    name = "judge"
    Params = JudgeParams

    def describe(self, result) -> str:
        rated = {r["id"] for r in result.rows}
        lines = [f"judged {len(rated)} of {len(rated) + len(result.errors)} rows with {result.params['model']} "
                 f"(job {result.job_id}); {len(result.errors)} failed"]
        for a in result.params["aspects"]:
            vals = [v for rid, name, v in result.signals if name == f"judge.{a}" and rid in rated]
            if vals:
                lines.append(f"  judge.{a:<24} mean {sum(vals) / len(vals):.2f}  min {min(vals):g}  max {max(vals):g}")
        return "\n".join(lines)

    def generate(self, records, client, ws, params, overrides, ctx):
        return judge(records, client, ws, aspects=params.aspects, concurrency=params.concurrency,
                     on_event=ctx.on_event, cancel=ctx.cancel, overrides=overrides)
