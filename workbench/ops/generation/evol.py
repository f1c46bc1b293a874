"""Evol-Instruct: make instructions harder (in depth) or different (in breadth), N rounds.

Each round applies one mutation, chosen from a seeded RNG per row and round (so a resumed
run sends the same prompts), then checks the result; a failed evolution is eliminated and
the row carries on from its last good instruction, as in WizardLM. The final instruction is
answered. A row fails only when every round was eliminated (or a call failed for good).
"""

from __future__ import annotations

import random
import re
from typing import Sequence

from workbench.data.record import Record
from workbench.llm.prompts import render
from workbench.ops.base import Result
from dataclasses import dataclass

from workbench.ops.base import param
from workbench.ops.generation.common import LLMOperation, LLMParams
from workbench.ops.generation.common import (
    GenerationError, errors_of, instruction, is_refusal, normalise, provenance, require_text,
    run_rows, strip_label, usable_answer, with_exchange,
)
from workbench.ops.generation.rouge import rouge_l

OP = "evol"
DEPTH = {
    "constraints": "Add one more constraint or requirement that the answer must meet.",
    "deepen": "If it asks about a topic, ask for more depth and breadth on it.",
    "concretise": "Replace general concepts with more specific ones.",
    "reasoning": "If it can be solved in a few simple steps, make it explicitly require several steps of reasoning.",
    "complicate_input": "Add a small piece of input the task must use, such as a table, code, a list of numbers or a JSON object.",
}
BREADTH = "breadth"
MUTATIONS = (*DEPTH, BREADTH)
MIN_WORDS = 4
UNCHANGED_ROUGE = 0.9  # an evolution this close to its parent adds nothing
_COPIES_PROMPT = re.compile(
    r"(given prompt|rewritten prompt|#\s*(given|rewritten|created)|prompt rewriter|rewrite the prompt|"
    r"more demanding version|as inspiration)", re.I)


def eliminate(parent: str, evolved: str) -> str | None:
    """Why an evolution fails (unchanged, copies the prompt, refusal, too short), or None."""
    if not evolved.strip():
        return "empty"
    if is_refusal(evolved):
        return "refusal"
    if len(evolved.split()) < MIN_WORDS:
        return f"too short ({len(evolved.split())} words)"
    if normalise(evolved) == normalise(parent) or rouge_l(parent, evolved) >= UNCHANGED_ROUGE:
        return "unchanged"
    if _COPIES_PROMPT.search(evolved):
        return "copies the evolution prompt"
    return None


def mutation_prompt(mutation: str, instruction: str, overrides: dict | None = None) -> str:
    """The Evol-Instruct prompt applying one mutation (a DEPTH key or BREADTH) to `instruction`."""
    if mutation == BREADTH:
        return render("evol_breadth", overrides, instruction=instruction)
    return render("evol_depth", overrides, instruction=instruction, method=DEPTH[mutation])


def evolve(records: Sequence[Record], client, ws, *, rounds: int = 1, mutations: Sequence[str] = MUTATIONS,
           seed: int = 0, concurrency: int = 4, on_event=None, cancel=None, overrides: dict | None = None) -> Result:
    unknown = [m for m in mutations if m not in MUTATIONS]
    if unknown or not mutations:
        raise ValueError(f"unknown mutation(s) {', '.join(unknown) or '(none)'}; expected {', '.join(MUTATIONS)}")
    if rounds < 1:
        raise ValueError("rounds must be at least 1")

    def run(payload: dict) -> dict:
        rng = random.Random(f"{seed}:{payload['id']}")
        current, history = payload["instruction"], []
        for r in range(rounds):
            method = rng.choice(list(mutations))
            prompt = mutation_prompt(method, current, overrides)
            def survives(text: str, parent: str = current) -> None:  # an eliminated reply is not cached
                if (why := eliminate(parent, strip_label(text))) is not None:
                    raise GenerationError(why)

            try:
                evolved = strip_label(client.complete([{"role": "user", "content": prompt}], validate=survives)["text"])
                why = None
            except GenerationError as e:
                why = str(e)
            history.append({"round": r + 1, "mutation": method, "eliminated": why})
            if why is None:
                current = evolved
        if all(h["eliminated"] for h in history):
            raise GenerationError("every evolution was eliminated: " +
                                  "; ".join(f"round {h['round']} {h['mutation']}: {h['eliminated']}" for h in history))
        out = client.complete([{"role": "user", "content": render("answer", overrides, instruction=current)}],
                              validate=usable_answer)
        return {"instruction": current, "answer": usable_answer(out["text"]), "history": history}

    items = [(r["id"], {"id": r["id"], "instruction": instruction(r)}) for r in records if _has_user(r)]
    errors = {r["id"]: "row has no user turn to evolve" for r in records if not _has_user(r)}
    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "rounds": rounds,
                                                "mutations": list(mutations), "seed": seed,
                                                "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, [rid for rid, _ in items]))
    rows = []
    for rec in records:
        res = job.results.get(rec["id"])
        if res is None:
            continue
        out = provenance(rec, OP, client.model, rounds=res["history"], original=instruction(rec))
        rows.append(with_exchange(out, res["instruction"], res["answer"]))
    return Result(OP, {}, rows=rows, errors=errors, job_id=job.job_id, status=job.status, usage=dict(client.usage))


def _has_user(rec: Record) -> bool:
    return any(t.get("role") == "user" for t in rec.get("messages") or ())


@dataclass
class EvolParams(LLMParams):
    rounds: int = param(1, help="evolution rounds")
    mutations: list[str] = param(factory=lambda: list(MUTATIONS), help="comma-separated subset of the mutations")
    seed: int = param(0, help="seed for choosing mutations")


class Evol(LLMOperation):
    name = "generate-evol"
    Params = EvolParams
    review = True

    def generate(self, records, client, ws, params, overrides, ctx):
        return evolve(records, client, ws, rounds=params.rounds, mutations=params.mutations, seed=params.seed,
                      concurrency=params.concurrency, on_event=ctx.on_event, cancel=ctx.cancel, overrides=overrides)
