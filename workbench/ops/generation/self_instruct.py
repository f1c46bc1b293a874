"""Self-instruct: grow a task pool from seed tasks.

Each attempt shows the model `k` tasks sampled from the seeds as demonstrations and asks for a
new one. A candidate joins the pool only if it passes the rule filters (not too short or
long, nothing a text-only model cannot do: images, audio, files, browsing) and its ROUGE-L
against every task already in the pool is below `threshold` (0.7, as in the paper). Kept
tasks are then answered in a second job. Demonstrations are sampled from a seeded RNG per
attempt, so a resumed run sends the same prompts and hits the response cache.
"""

from __future__ import annotations

import random
import re
from typing import Sequence

from workbench.data.record import Record, make_record
from workbench.llm.prompts import render
from workbench.ops.base import Result
from dataclasses import dataclass

from workbench.ops.base import param
from workbench.ops.generation.common import LLMOperation, LLMParams
from workbench.ops.generation.common import (
    answer_tasks, errors_of, instruction, require_text, run_rows, strip_label,
)
from workbench.ops.generation.rouge import RougePool

OP = "self-instruct"
MIN_WORDS, MAX_WORDS = 3, 150
# Tasks a text-only model cannot do (the paper's filter words, in spirit).
_UNANSWERABLE = re.compile(
    r"\b(image|images|picture|photo|photograph|graph|graphs|diagram|draw|drawing|plot|video|audio|"
    r"sound|listen|record|recording|file|files|attach|attached|attachment|map|url|link|website|"
    r"browse|download|upload|go to)\b", re.I)
_NOT_AN_INSTRUCTION = re.compile(r"^[^a-zA-Z]*$|^(task|example|output|input)\s*\d*\s*[:.]?\s*$", re.I)


def rule_filter(text: str) -> str | None:
    """Why a candidate task is rejected by the rules, or None if it passes."""
    words = text.split()
    if len(words) < MIN_WORDS:
        return f"too short ({len(words)} words)"
    if len(words) > MAX_WORDS:
        return f"too long ({len(words)} words)"
    if _NOT_AN_INSTRUCTION.match(text):
        return "not an instruction"
    m = _UNANSWERABLE.search(text)
    if m:
        return f"needs more than text ({m.group(0)!r})"
    return None


def parse_task(text: str) -> str:
    """The first task in a reply: up to the next 'Task N:' label the model may go on with."""
    text = strip_label(text)
    text = re.split(r"\n\s*\**\s*Task\s*\d+\s*[:.]", text, maxsplit=1)[0]
    return require_text(text, "task")


def self_instruct(seeds: Sequence[Record], client, ws, *, n: int = 10, k: int = 3, threshold: float = 0.7,
                  attempts_per_task: int = 3, seed: int = 0, concurrency: int = 4, on_event=None,
                  cancel=None, overrides: dict | None = None) -> Result:
    """Generate up to `n` new tasks (instruction + answer) from `seeds`.

    `attempts_per_task * n` candidates are requested (the first `n` that pass are kept);
    `errors` holds the calls that failed, `dropped` the candidates the filters removed, each
    with its reason, so nothing disappears unexplained.
    """
    seed_tasks = [instruction(r) for r in seeds]
    if not seed_tasks:
        raise ValueError("self-instruct needs at least one seed task")
    k = max(1, min(k, len(seed_tasks)))
    rng = random.Random(seed)
    items = [(f"{OP}:{seed}:{i}", {"demos": rng.sample(seed_tasks, k), "attempt": i})
             for i in range(n * attempts_per_task)]

    def propose(payload: dict) -> dict:
        # the attempt number as the sampling seed: two attempts that drew the same
        # demonstrations are still two samples (and two cache entries), not one answer twice
        out = client.complete([{"role": "user", "content": render("self_instruct", overrides, demos=payload["demos"])}],
                              seed=seed * 100_003 + payload["attempt"], validate=parse_task)
        return {"task": parse_task(out["text"]), "cached": out["cached"]}

    params = {"model": client.describe(), "n": n, "k": k, "seed": seed, "attempts": attempts_per_task,
              "seeds": seed_tasks}
    job = run_rows(ws, f"{OP}.propose", items, propose, params=params, concurrency=concurrency,
                   on_event=on_event, cancel=cancel)
    errors = errors_of(job, [rid for rid, _ in items])

    # Filter in a fixed order (attempt index), so the same candidates give the same pool.
    pool = RougePool(seed_tasks)
    dropped: dict[str, str] = {}
    kept: list[tuple[str, str, float]] = []
    for rid, _ in items:
        if rid not in job.results or len(kept) >= n:
            continue
        task = job.results[rid]["task"]
        why = rule_filter(task)
        score = pool.max_score(task)
        if why is None and score >= threshold:
            why = f"too similar to the pool (ROUGE-L {score:.2f} >= {threshold})"
        if why:
            dropped[rid] = f"{why}: {task[:80]!r}"
            continue
        pool.add(task)
        kept.append((rid, task, score))

    ans = answer_tasks(ws, f"{OP}.answer", [(rid, task) for rid, task, _ in kept], client, overrides,
                       params={"model": client.describe(), "tasks": [t for _, t, _ in kept]},
                       concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(ans, [rid for rid, _, _ in kept]))
    rows = []
    for i, (rid, task, score) in enumerate(kept):
        if rid not in ans.results:
            continue
        rec = make_record(
            id=rid, kind="sft", row=i,
            messages=[{"role": "user", "content": task}, {"role": "assistant", "content": ans.results[rid]["answer"]}],
            meta={"provenance": {"operation": OP, "model": client.model, "parent": None,
                                 "rouge_l_max": round(score, 3)}},
            origin=dict((seeds[0].get("origin") or {}), h={}),
        )
        rows.append(rec)
    status = job.status if job.status != "done" else ans.status
    return Result(OP, {}, rows=rows, errors=errors, job_id=ans.job_id, status=status, usage=dict(client.usage),
                  dropped=dropped)


@dataclass
class SelfInstructParams(LLMParams):
    n: int = param(10, help="new tasks to keep")
    k: int = param(3, help="seed tasks shown per request")
    threshold: float = param(0.7, help="ROUGE-L novelty threshold")
    seed: int = param(0, help="seed for sampling demonstrations")
    seeds: str | None = param(None, help="seed task file (default: the input rows are the seeds)")


class SelfInstruct(LLMOperation):
    name = "generate-self-instruct"
    Params = SelfInstructParams
    review = True

    def records(self, ds, params, rows):
        if params.seeds:
            from workbench.data.dataset import Dataset
            from workbench.paths import example_file

            return Dataset.open([str(example_file(params.seeds))]).records()
        return super().records(ds, params, rows)

    def generate(self, records, client, ws, params, overrides, ctx):
        return self_instruct(records, client, ws, n=params.n, k=params.k, threshold=params.threshold,
                             seed=params.seed, concurrency=params.concurrency, on_event=ctx.on_event,
                             cancel=ctx.cancel, overrides=overrides)
