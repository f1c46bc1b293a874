"""Auto Evol-Instruct (Zeng et al. 2024, "Automatic Instruction Evolving for Large Language
Models"): the evolution method is evolved instead of hand-written.

The rows are split (seeded) into a held-out batch and training batches. Starting from a
general evolution method (INITIAL_METHOD), each round evolves one training batch with the
current method, finds the failures (the cheap rules of Evol-Instruct's elimination plus an LLM
check: unchanged, copied, refused, unanswerable, contradicting constraints) and has the model
rewrite the method to avoid them. Every method is then scored by its failure rate on the
held-out batch, and the lowest wins (ties: the earlier). The fixed Evol-Instruct prompts
(one seeded mutation per row, as `generate evol --rounds 1` sends) are scored on the same
held-out rows, so the report compares the two. Finally every row is evolved with the winning
method; its failures, and near-copies of instructions seen (workbench.ops.generation.novelty),
are dropped with the reason, and the rest are answered.

A rewrite the model returns without a `<method>...</method>` block (or an empty one) is an
error of that round: the method stays as it was. Every LLM step is a checkpointed job.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Sequence

from workbench.data.record import Record
from workbench.llm.prompts import render
from workbench.ops.base import Result, param
from workbench.ops.generation.common import (
    GenerationError, LLMOperation, answer_tasks, errors_of, instruction, provenance, require_text, rows_with_turns,
    run_rows, strip_label, with_exchange,
)
from workbench.ops.generation.evol import MUTATIONS, eliminate, mutation_prompt
from workbench.ops.generation.novelty import Novelty, NoveltyParams

OP = "auto-evol"
INITIAL_METHOD = (
    "You rewrite instructions for an AI assistant into more complex versions.\n"
    "Step 1: List a few ways to make the instruction below more complex (add a constraint, "
    "ask for reasoning in steps, make a concept more specific, add a small input to work on).\n"
    "Step 2: Choose one or two of them that keep the instruction sensible and answerable.\n"
    "Step 3: Rewrite the instruction with them, adding no more than 20 words. Keep any code, "
    "table or data it contains.\n"
    "Step 4: Check that the rewrite is still one clear request, not a refusal and not a copy."
)
CATEGORIES = ("unchanged", "copied", "refused", "unanswerable", "contradicting")
_FINAL = re.compile(r"final instruction\s*\**\s*[:：]\s*\**", re.I)
_METHOD = re.compile(r"<method>\s*(.*?)\s*</method>", re.S | re.I)
_CHECK = re.compile(r"verdict\s*\**\s*[:=]?\s*\**\s*(ok|failed|fail)\b", re.I)
_CATEGORY = re.compile(r"category\s*\**\s*[:=]\s*\**\s*([a-z]+)", re.I)
_REASON = re.compile(r"reason\s*\**\s*[:=]\s*\**\s*(.+)", re.I)
_RULE_CATEGORY = {"unchanged": "unchanged", "refusal": "refused", "copies the evolution prompt": "copied"}


def parse_final(text: str) -> str | None:
    """The rewritten instruction after the last 'Final instruction:' label, or None."""
    marks = list(_FINAL.finditer(text or ""))
    if not marks:
        return None
    return strip_label(text[marks[-1].end():].strip().split("\n\n")[0]) or None


def parse_method(text: str) -> str:
    """The method between <method> tags; GenerationError when there is none or it is too short."""
    m = _METHOD.search(text or "")
    if not m:
        raise GenerationError(f"method rewrite has no <method>...</method> block: {(text or '').strip()[:100]!r}")
    return require_text(m.group(1), "method", min_words=8)


def parse_check(text: str) -> tuple[str | None, str]:
    """(failure category or None, reason) from the failure check's reply; GenerationError
    without a verdict."""
    m = _CHECK.search(text or "")
    if not m:
        raise GenerationError(f"no 'Verdict:' in the failure check's reply: {(text or '').strip()[:100]!r}")
    reason = (r.group(1).strip() if (r := _REASON.search(text)) else "")
    if m.group(1).lower() == "ok":
        return None, reason
    cat = (c.group(1).lower() if (c := _CATEGORY.search(text)) else "")
    return (cat if cat in CATEGORIES else "failed"), reason


def _failure(client, original: str, evolved: str | None, overrides) -> tuple[str | None, str]:
    """Why an evolution failed (category, reason), or (None, reason): rules first, then the LLM."""
    if evolved is None:
        return "format", "no 'Final instruction:' line in the reply"
    why = eliminate(original, evolved)
    if why is not None:
        return _RULE_CATEGORY.get(why, "unchanged" if why == "empty" else "too short"), why
    out = client.complete([{"role": "user", "content": render("auto_evol_check", overrides, original=original,
                                                               evolved=evolved)}],
                          temperature=0.0, validate=parse_check)
    return parse_check(out["text"])


def _evolve_batch(name: str, rows: list[tuple[str, str]], prompt_of, client, ws, overrides, **job) -> dict:
    """Evolve (row id, instruction) pairs with `prompt_of(row id, instruction)`; {row id: {evolved,
    category, reason}} for the rows that ran, plus "_errors"."""

    def run(payload: dict) -> dict:
        out = client.complete([{"role": "user", "content": payload["prompt"]}])
        text = out["text"]
        evolved = parse_final(text) if payload["final"] else strip_label(text)
        category, reason = _failure(client, payload["instruction"], evolved, overrides)
        return {"evolved": evolved, "category": category, "reason": reason}

    items = [(rid, {"instruction": ins, "prompt": prompt_of(rid, ins), "final": name != "baseline"})
             for rid, ins in rows]
    res = run_rows(ws, f"{OP}.{name}", items, run, params={"model": client.describe()}, **job)
    return {**res.results, "_errors": errors_of(res, [rid for rid, _ in items]), "_status": res.status}


def _rate(results: dict) -> float | None:
    done = [v for k, v in results.items() if not k.startswith("_")]
    return sum(1 for v in done if v["category"]) / len(done) if done else None


def auto_evol(records: Sequence[Record], client, ws, *, rounds: int = 2, batch: int = 8, heldout: int = 8,
              seed: int = 0, novelty: Novelty | None = None, concurrency: int = 4, on_event=None, cancel=None,
              overrides: dict | None = None) -> Result:
    if rounds < 1 or batch < 1 or heldout < 1:
        raise ValueError("rounds, batch and heldout must each be at least 1")
    usable, errors = rows_with_turns(records)
    pairs = [(r["id"], instruction(r)) for r in usable]
    if len(pairs) < 2:
        raise ValueError("auto-evol needs at least two rows with a user turn (a held-out batch and a training one)")
    order = pairs[:]
    random.Random(seed).shuffle(order)
    held, train = order[:min(heldout, len(order) // 2)], order[min(heldout, len(order) // 2):]
    job = dict(concurrency=concurrency, on_event=on_event, cancel=cancel)
    method_prompt = lambda method: lambda rid, ins: render("auto_evol", overrides, method=method, instruction=ins)  # noqa: E731

    methods, history = [INITIAL_METHOD], []
    for r in range(rounds):
        chunk = [train[(r * batch + i) % len(train)] for i in range(min(batch, len(train)))]
        got = _evolve_batch(f"round{r + 1}", chunk, method_prompt(methods[-1]), client, ws, overrides, **job)
        failures = [{"original": ins, "evolved": got[rid]["evolved"] or "", "category": got[rid]["category"],
                     "reason": got[rid]["reason"]} for rid, ins in chunk if rid in got and got[rid]["category"]]
        entry = {"round": r + 1, "train_failure_rate": _rate(got), "failures": len(failures), "error": None}
        if got["_status"] == "cancelled":
            return Result(OP, {}, status="cancelled")
        if not failures:
            entry["note"] = "no failures to fix: method kept"
            history.append(entry)
            continue

        def rewrite(payload: dict) -> dict:
            out = client.complete([{"role": "user", "content": render("auto_evol_optimize", overrides, **payload)}],
                                  validate=parse_method)
            return {"method": parse_method(out["text"])}

        opt = run_rows(ws, f"{OP}.optimize", [(f"round{r + 1}", {"method": methods[-1], "failures": failures[:10]})],
                       rewrite, params={"model": client.describe()}, **job)
        if f"round{r + 1}" in opt.results:
            methods.append(opt.results[f"round{r + 1}"]["method"])
            entry["method"] = len(methods) - 1
        else:
            entry["error"] = opt.errors.get(f"round{r + 1}", "not run (job cancelled)")
        history.append(entry)

    # score every method, and the fixed Evol-Instruct prompts, on the same held-out rows
    scores = []
    for m in methods:
        scores.append(_rate(_evolve_batch("heldout", held, method_prompt(m), client, ws, overrides, **job)))
    best = min(range(len(methods)), key=lambda i: (scores[i] is None, scores[i] or 0.0, i))
    mutations = list(MUTATIONS)
    baseline = _evolve_batch(
        "baseline", held, lambda rid, ins: mutation_prompt(random.Random(f"{seed}:{rid}").choice(mutations), ins, overrides),
        client, ws, overrides, **job)
    base_rate = _rate(baseline)

    # evolve every row with the winning method, drop its failures, answer the rest
    final = _evolve_batch("final", pairs, method_prompt(methods[best]), client, ws, overrides, **job)
    errors.update(final["_errors"])
    dropped = {rid: f"{final[rid]['category']}: {final[rid]['reason'][:100]}" for rid, _ in pairs
               if rid in final and final[rid]["category"]}
    good = [(rid, final[rid]["evolved"]) for rid, _ in pairs if rid in final and not final[rid]["category"]]
    keep, near = (novelty or Novelty()).filter(good)
    dropped.update({rid: f"{why} of an instruction seen before" for rid, why in near.items()})
    good = [(rid, ins) for rid, ins in good if rid in set(keep)]

    ans = answer_tasks(ws, f"{OP}.answer", good, client, overrides, params={"model": client.describe()}, **job)
    errors.update(errors_of(ans, [rid for rid, _ in good]))
    rows = []
    for rec in usable:
        if rec["id"] in ans.results:
            out = provenance(rec, OP, client.model, original=instruction(rec), method_index=best)
            rows.append(with_exchange(out, final[rec["id"]]["evolved"], ans.results[rec["id"]]["answer"]))
    fmt = lambda x: "n/a" if x is None else f"{x:.0%}"  # noqa: E731
    report = {"method": methods[best], "method_index": best, "methods": methods, "heldout": [rid for rid, _ in held],
              "failure_rate": scores[best], "method_failure_rates": scores, "evol_instruct_failure_rate": base_rate,
              "rounds": history}
    summary = (f"{OP}: method {best} of {len(methods)} (0 = the initial one) fails {fmt(scores[best])} of "
               f"{len(held)} held-out rows; fixed Evol-Instruct prompts fail {fmt(base_rate)} of the same rows. "
               f"Kept {len(rows)}, dropped {len(dropped)}, failed {len(errors)}")
    status = "cancelled" if "cancelled" in (final["_status"], ans.status) else ans.status
    return Result(OP, {}, rows=rows, errors=errors, dropped=dropped, job_id=ans.job_id, status=status,
                  usage=dict(client.usage), report=report, summary=summary,
                  counts={"auto_evol.method": methods[best], "auto_evol.failure_rate": scores[best],
                          "evol_instruct.failure_rate": base_rate})


@dataclass
class AutoEvolParams(NoveltyParams):
    rounds: int = param(2, help="optimisation rounds (one method rewrite each)")
    batch: int = param(8, help="instructions evolved per round to find failures")
    heldout: int = param(8, help="held-out instructions every method is scored on")
    seed: int = param(0, help="seed of the held-out split and of the baseline's mutations")
    method_out: str | None = param(None, help="file to save the winning method in (default: OUT.method.txt)")


class AutoEvol(LLMOperation):
    name = "generate-auto-evol"
    Params = AutoEvolParams
    scope = "dataset"  # the held-out split and the batches need every row
    review = True

    def params_from_args(self, args):
        params = super().params_from_args(args)
        if params.method_out is None and getattr(args, "out", None):
            params.method_out = f"{args.out}.method.txt"
        return params

    def generate(self, records, client, ws, params, overrides, ctx):
        result = auto_evol(records, client, ws, rounds=params.rounds, batch=params.batch, heldout=params.heldout,
                           seed=params.seed, novelty=params.novelty_check(), concurrency=params.concurrency, on_event=ctx.on_event,
                           cancel=ctx.cancel, overrides=overrides)
        if params.method_out and result.status == "done":
            from workbench.atomic import write_text_atomic

            write_text_atomic(params.method_out, result.report["method"] + "\n")
            result.summary += f"; method saved to {params.method_out}"
        return result
