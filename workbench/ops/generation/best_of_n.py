"""Best-of-N (rejection sampling): N answers per prompt, scored, best and worst kept as a pair.

Candidates are scored by a verifier when the row has something to check against (code tests,
a reference final answer; score 1 or 0) and otherwise by the LLM judge (1-5 on
helpfulness). The output row is a preference pair: the prompt turns, the best candidate as
`chosen` and the worst as `rejected`. A row fails, with the reason, when fewer than two
candidates could be scored or when all scored the same (a pair without a preference would
only add noise to preference training).
"""

from __future__ import annotations

from typing import Sequence

from workbench.data.record import Record
from workbench.ops.base import Result
from dataclasses import dataclass

from workbench.ops.base import param
from workbench.ops.generation.common import LLMOperation, LLMParams
from workbench.ops.generation.common import (
    GenerationError, errors_of, instruction, last_user_index, prompt_turns, provenance, rows_with_turns, run_rows,
)
from workbench.ops.generation.judge import rate
from workbench.ops.generation.verify import verifier_for

OP = "best-of-n"
SCORERS = ("auto", "judge", "verifier")


def candidates(client, messages: list[dict], n: int, temperature: float) -> list[str]:
    """N distinct-seeded samples (one call with `n` when the server honours it)."""
    texts = [t.strip() for t in client.complete(messages, n=n, temperature=temperature)["texts"]]
    seed = 1
    while len(texts) < n:  # servers that ignore `n` return one choice: ask again with new seeds
        texts += [t.strip() for t in client.complete(messages, n=1, temperature=temperature, seed=seed)["texts"]]
        seed += 1
    return texts[:n]


def best_of_n(records: Sequence[Record], client, ws, *, n: int = 4, temperature: float = 0.9,
              scorer: str = "auto", concurrency: int = 4, on_event=None, cancel=None,
              overrides: dict | None = None) -> Result:
    if n < 2:
        raise ValueError("best-of-n needs n >= 2 to make a pair")
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}; expected one of {', '.join(SCORERS)}")
    usable, errors = rows_with_turns(records)
    by_id = {r["id"]: r for r in usable}

    def run(rid: str) -> dict:
        rec = by_id[rid]
        texts = candidates(client, prompt_turns(rec), n, temperature)
        verifier = verifier_for(rec) if scorer in ("auto", "verifier") else None
        if scorer == "verifier" and verifier is None:
            raise GenerationError("no tests or reference answer in the row to verify against")
        scored, problems = [], []
        for i, text in enumerate(texts):
            if not text:
                problems.append(f"candidate {i + 1}: empty")
                continue
            try:
                if verifier is not None:
                    v = verifier(text)
                    scored.append((1.0 if v["passed"] else 0.0, i, v["detail"]))
                else:
                    score, why = rate(client, "helpfulness", instruction(rec), text, overrides)
                    scored.append((score, i, why))
            except GenerationError as e:
                problems.append(f"candidate {i + 1}: {e}")
        if len(scored) < 2:
            raise GenerationError(f"only {len(scored)} of {n} candidates could be scored: " + "; ".join(problems))
        scored.sort(key=lambda s: (-s[0], s[1]))
        best, worst = scored[0], scored[-1]
        if best[0] == worst[0]:
            raise GenerationError(f"no preference: all {len(scored)} scored candidates scored {best[0]:g}")
        return {"chosen": texts[best[1]], "rejected": texts[worst[1]], "scores": [s[0] for s in scored],
                "chosen_score": best[0], "rejected_score": worst[0],
                "scorer": "verifier" if verifier is not None else "judge"}

    job = run_rows(ws, OP, [(rid, rid) for rid in by_id], run,
                   params={"model": client.describe(), "n": n, "temperature": temperature, "scorer": scorer,
                           "prompts": {rid: prompt_turns(r) for rid, r in by_id.items()},
                           "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, list(by_id)))
    rows = []
    for rec in usable:
        res = job.results.get(rec["id"])
        if res is None:
            continue
        out = provenance(rec, OP, client.model, n=n, scorer=res["scorer"], scores=res["scores"],
                         chosen_score=res["chosen_score"], rejected_score=res["rejected_score"])
        out.update(kind="preference", messages=out["messages"][: last_user_index(rec) + 1], label=None,
                   chosen=[{"role": "assistant", "content": res["chosen"]}],
                   rejected=[{"role": "assistant", "content": res["rejected"]}])
        rows.append(out)
    signals = [(rid, "best_of_n.margin", r["chosen_score"] - r["rejected_score"]) for rid, r in job.results.items()]
    return Result(OP, {}, signals=signals, rows=rows, errors=errors, job_id=job.job_id, status=job.status,
                  usage=dict(client.usage))


@dataclass
class BestOfNParams(LLMParams):
    n: int = param(4, help="candidates per prompt")
    scorer: str = param("auto", choices=SCORERS,
                        help="auto: the verifier when the row has tests or a reference, else the judge")


class BestOfN(LLMOperation):
    name = "generate-best-of-n"
    Params = BestOfNParams
    review = True

    def generate(self, records, client, ws, params, overrides, ctx):
        return best_of_n(records, client, ws, n=params.n, temperature=params.temperature, scorer=params.scorer,
                         concurrency=params.concurrency, on_event=ctx.on_event, cancel=ctx.cancel, overrides=overrides)
