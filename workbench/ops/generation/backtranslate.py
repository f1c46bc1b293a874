"""Instruction backtranslation with self-curation (Humpback: Li et al. 2023, "Self-Alignment
with Instruction Backtranslation").

Self-augmentation: for each unlabeled text (a `text` row, e.g. a document chunk, or the answer
of a conversation) the model writes the instruction the text would answer. Self-curation: the
model then rates each (instruction, text) pair 1-5 on the paper's scale of how well the text
answers it as an assistant would (greedy, the judge's `Rating:` format); pairs rated at or
above `threshold` (4, as in the paper's curated sets) are kept. Every rating is a
`backtranslate.rating` signal on its source row; an instruction that is a near-copy of one
already kept (ROUGE-L) is dropped with the reason. Iterating (curate, fine-tune, curate again)
is a recipe of these steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from workbench.data.record import Record, make_record
from workbench.llm.prompts import render
from workbench.ops.base import Result, param
from workbench.ops.generation.common import (
    GenerationError, LLMOperation, answer, errors_of, require_text, run_rows, strip_label,
)
from workbench.ops.generation.judge import rate
from workbench.ops.generation.novelty import Novelty, NoveltyParams

OP = "backtranslate"
ASPECT = "answer_quality"


def source_text(rec: Record) -> str:
    """The unlabeled text of a row: a text row's text, else the row's answer."""
    if rec.get("kind") == "text":
        return rec.get("text") or ""
    return answer(rec)


def backtranslate(records: Sequence[Record], client, ws, *, threshold: float = 4.0, novelty: Novelty | None = None,
                  concurrency: int = 4, on_event=None, cancel=None, overrides: dict | None = None) -> Result:
    items, errors = [], {}
    for r in records:
        try:
            items.append((r["id"], {"text": require_text(source_text(r), "text")}))
        except GenerationError as e:
            errors[r["id"]] = f"no text to backtranslate: {e}"

    def run(payload: dict) -> dict:
        def check(t: str) -> str:
            return require_text(strip_label(t), "instruction", min_words=2)

        out = client.complete([{"role": "user", "content": render("backtranslate", overrides, text=payload["text"])}],
                              validate=check)
        task = check(out["text"])
        rating, rationale = rate(client, ASPECT, task, payload["text"], overrides)
        return {"instruction": task, "rating": rating, "rationale": rationale}

    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, [rid for rid, _ in items]))
    by_id = {r["id"]: r for r in records}
    dropped, signals, candidates = {}, [], []
    for rid, payload in items:
        res = job.results.get(rid)
        if res is None:
            continue
        signals.append((rid, "backtranslate.rating", res["rating"]))
        if res["rating"] < threshold:
            dropped[rid] = f"rated {res['rating']:g} < {threshold:g} ({res['rationale'][:80] or 'no rationale'})"
        else:
            candidates.append((rid, res["instruction"]))
    keep, near = (novelty or Novelty()).filter(candidates)
    dropped.update({rid: f"{near[rid]} of an instruction seen before" for rid in near})
    dropped = {rid: f"{why}: {job.results[rid]['instruction'][:80]!r}" for rid, why in dropped.items()}
    rows, payloads = [], dict(items)
    for rid in keep:
        res, src = job.results[rid], by_id[rid]
        rows.append(make_record(
            id=rid, kind="sft", messages=[{"role": "user", "content": res["instruction"]},
                                          {"role": "assistant", "content": payloads[rid]["text"]}],
            meta={**(src.get("meta") or {}), "provenance": {
                "operation": OP, "model": client.model, "parent": rid, "rating": res["rating"],
                "rationale": res["rationale"]}},
            origin=src.get("origin"), source=src.get("source") or "", row=src.get("row") or 0))
    summary = (f"{OP}: {len(items)} texts; kept {len(rows)} (rating >= {threshold:g}), dropped {len(dropped)}, "
               f"failed {len(errors)} ({job.status})")
    return Result(OP, {}, rows=rows, signals=signals, errors=errors, dropped=dropped, job_id=job.job_id,
                  status=job.status, usage=dict(client.usage), summary=summary)


@dataclass
class BacktranslateParams(NoveltyParams):
    threshold: float = param(4.0, help="keep pairs rated at least this (1-5)")


class Backtranslate(LLMOperation):
    name = "generate-backtranslate"
    Params = BacktranslateParams
    review = True

    def generate(self, records, client, ws, params, overrides, ctx):
        return backtranslate(records, client, ws, threshold=params.threshold, novelty=params.novelty_check(),
                             concurrency=params.concurrency, on_event=ctx.on_event, cancel=ctx.cancel,
                             overrides=overrides)
