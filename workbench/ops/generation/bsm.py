"""Branch-solve-merge: plan the parts of an answer, solve each, merge them into one.

Three kinds of call per row: one to list up to `k` branches (aspects or sub-problems), one
per branch to solve it, one to merge the partial answers. The merged answer becomes the
row's answer (a proposed rewrite, recorded as a `rewrite.bsm` signal when the row had one).
"""

from __future__ import annotations

import re
from typing import Sequence

from workbench.data.record import Record
from workbench.llm.prompts import render
from workbench.ops.base import Result
from dataclasses import dataclass

from workbench.ops.base import param
from workbench.ops.generation.common import LLMOperation, LLMParams
from workbench.ops.generation.common import (
    GenerationError, answer, errors_of, instruction, provenance, require_text,
    rows_with_turns, run_rows, with_answer,
)

OP = "bsm"
_ITEM = re.compile(r"^\s*(?:[-*•]|\(?\d+[.)\]:]|\[\d+\])\s*(.+?)\s*$")


def parse_branches(text: str, k: int) -> list[str]:
    """Numbered or bulleted lines of the planner's reply (at most `k`); fails if none."""
    items = [m.group(1).strip("*: ") for line in text.splitlines() if (m := _ITEM.match(line))]
    items = [i for i in items if len(i.split()) >= 2]
    if not items:
        raise GenerationError(f"could not find any branches in the plan: {text[:80]!r}")
    return items[:k]


def branch_solve_merge(records: Sequence[Record], client, ws, *, k: int = 3, concurrency: int = 4,
                       on_event=None, cancel=None, overrides: dict | None = None) -> Result:
    if k < 1:
        raise ValueError("k (branches) must be at least 1")

    def ask(name: str, check, **variables):
        """`check(reply)`; a reply failing it is not cached, so a re-run asks again."""
        return check(client.complete([{"role": "user", "content": render(name, overrides, **variables)}],
                                     validate=check)["text"])

    def run(task: str) -> dict:
        branches = ask("bsm_branch", lambda t: parse_branches(t, k), instruction=task, k=k)
        solved = [{"branch": b, "answer": ask("bsm_solve", lambda t: require_text(t, "branch answer"),
                                              instruction=task, branch=b)}
                  for b in branches]
        merged = ask("bsm_merge", lambda t: require_text(t, "merged answer", min_words=3),
                     instruction=task, branches=solved)
        return {"answer": merged, "branches": branches}

    usable, errors = rows_with_turns(records)
    items = [(r["id"], instruction(r)) for r in usable]
    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "k": k, "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, [rid for rid, _ in items]))
    rows, rewrites = [], []
    for rec in usable:
        res = job.results.get(rec["id"])
        if res is None:
            continue
        before = _old_answer(rec)
        rows.append(with_answer(provenance(rec, OP, client.model, branches=res["branches"], original=before),
                                res["answer"]))
        if before is not None:
            rewrites.append((rec["id"], before, res["answer"]))
    return Result(OP, {}, rows=rows, errors=errors, job_id=job.job_id, status=job.status,
                  usage=dict(client.usage), rewrites=rewrites)


def _old_answer(rec: Record) -> str | None:
    try:
        return answer(rec)
    except GenerationError:
        return None


@dataclass
class BsmParams(LLMParams):
    branches: int = param(3, help="branches per row")


class Bsm(LLMOperation):
    name = "generate-bsm"
    Params = BsmParams
    review = True

    def generate(self, records, client, ws, params, overrides, ctx):
        return branch_solve_merge(records, client, ws, k=params.branches, concurrency=params.concurrency,
                                  on_event=ctx.on_event, cancel=ctx.cancel, overrides=overrides)
