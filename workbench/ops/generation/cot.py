"""Chain-of-thought rewrite: the same answer, reasoned step by step before its result.

A proposed rewrite, not a replacement: the output row carries the new answer and its
provenance keeps the original, and the workspace gets a `rewrite.cot` signal per row
({"before", "after"}) so a reviewer can diff and accept or reject it.
"""

from __future__ import annotations

from typing import Sequence

from workbench.data.record import Record
from workbench.llm.prompts import render
from workbench.ops.base import Result
from workbench.ops.generation.common import LLMOperation
from workbench.ops.generation.common import (
    answer, errors_of, instruction, provenance, require_text, rows_with_turns,
    run_rows, with_answer,
)

OP = "cot"


def cot(records: Sequence[Record], client, ws, *, concurrency: int = 4, on_event=None, cancel=None,
        overrides: dict | None = None) -> Result:
    def run(payload: dict) -> dict:
        def check(text: str) -> str:  # also the client's: a reply failing it is never cached
            return require_text(text, "step-by-step answer", min_words=5)

        out = client.complete([{"role": "user", "content": render("cot", overrides, **payload)}], validate=check)
        return {"answer": check(out["text"])}

    usable, errors = rows_with_turns(records, need_answer=True)
    items = [(r["id"], {"instruction": instruction(r), "answer": answer(r)}) for r in usable]
    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, [rid for rid, _ in items]))
    rows = []
    for rec in usable:
        res = job.results.get(rec["id"])
        if res is not None:
            rows.append(with_answer(provenance(rec, OP, client.model, original=answer(rec)), res["answer"]))
    rewrites = [(r["id"], answer(r), res["answer"]) for r in usable if (res := job.results.get(r["id"])) is not None]
    return Result(OP, {}, rows=rows, errors=errors, job_id=job.job_id, status=job.status,
                  usage=dict(client.usage), rewrites=rewrites)


class Cot(LLMOperation):
    name = "generate-cot"
    review = True

    def generate(self, records, client, ws, params, overrides, ctx):
        return cot(records, client, ws, concurrency=params.concurrency, on_event=ctx.on_event, cancel=ctx.cancel,
                   overrides=overrides)
