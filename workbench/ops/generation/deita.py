"""DEITA's two scores by prompt to a judge model (Liu et al., 2024, "What Makes Good Data for
Alignment? A Comprehensive Study of Automatic Data Selection in Instruction Tuning").

DEITA trains its complexity and quality scorers on a judge's scores of a seed and its evolved
variants, shown side by side and ranked (Evol Complexity: instructions deepened by added
constraints, concreteness and reasoning steps; Evol Quality: responses made more helpful,
relevant, deep, creative and detailed), on a 1-6 scale. We ask the judge directly, and keep
the side-by-side ranking in the prompt: each prompt shows one fixed ladder of six evolved
variants, one per score, and asks where the row falls on it (workbench.llm.prompts
`deita_complexity` / `deita_quality`; replaceable with --prompt NAME=FILE).

Per row (the last user turn and the answer after it, the chosen side of a pair):
- `deita.complexity`: 1-6, of the instruction alone;
- `deita.quality`: 1-6, of the response to that instruction;
- `deita.score`: their product, DEITA's evol score, which `select --by deita` ranks by;
- `deita.rationale`: {complexity, quality} the judge's reasons.
A reply without a usable 1-6 rating is an error of that row (quoted), never a null; the rest
of the batch goes on.

How the score is read (`method`): `generate` parses the judge's written reply (any provider);
`probabilities` reads it as DEITA's own scorers do, the expected score Σ k·p(k) over the
probabilities of the tokens "1".."6" right after "Rating: " (one forward pass, never an
unparsable reply, a continuous score; the embedded local model only). `auto`: probabilities
on the embedded local model (the offline default, SmolLM2-135M, which rarely writes the rating
line it is asked for), generate elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from workbench.data.record import Record
from workbench.llm.prompts import render
from workbench.ops.base import ParamError, Result, param
from workbench.ops.generation.common import (
    GenerationError, LLMOperation, LLMParams, answer, errors_of, instruction, rows_with_turns, run_rows,
)
from workbench.ops.generation.judge import (
    METHODS, STRUCTURED, ask_rating, expected_rating, rating_summary, reads_probabilities, use_structured,
)

OP = "score-deita"
SCALE = 6
SCORES = ("complexity", "quality")


def deita_scores(records: Sequence[Record], client, ws, *, scores: Sequence[str] = SCORES, structured: str = "auto",
                 method: str = "auto", concurrency: int = 4, on_event=None, cancel=None,
                 overrides: dict | None = None) -> Result:
    """Rate every row's complexity and/or quality 1-6 (signals above). Rows without a user
    turn, or without an answer when quality is asked, are errors; so are unusable replies."""
    scores = [s for s in SCORES if s in scores]
    by_probs = reads_probabilities(client, method)
    as_json = not by_probs and use_structured(client, structured)

    def run(payload: dict) -> dict:
        ratings, why = {}, {}
        for s in scores:
            variables = {"instruction": payload["instruction"]}
            if s == "quality":
                variables["response"] = payload["answer"]
            msgs = [{"role": "user", "content": render(f"deita_{s}", overrides, structured=as_json, **variables)}]
            if by_probs:
                ratings[s], why[s] = expected_rating(msgs, high=SCALE, cancel=cancel)
                continue
            try:
                ratings[s], why[s] = ask_rating(client, msgs, high=SCALE, structured=as_json)
            except GenerationError as e:
                raise GenerationError(f"{s}: {e}") from None
        return {"ratings": ratings, "rationales": why}

    usable, errors = rows_with_turns(records, need_answer="quality" in scores)
    items = [(r["id"], {"instruction": instruction(r), **({"answer": answer(r)} if "quality" in scores else {})})
             for r in usable]
    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "scores": scores, "structured": as_json,
                                                "probabilities": by_probs, "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, [rid for rid, _ in items]))
    signals = []
    for rid, res in job.results.items():
        r = res["ratings"]
        signals += [(rid, f"deita.{s}", v) for s, v in r.items()]
        if len(r) == 2:
            signals.append((rid, "deita.score", round(r["complexity"] * r["quality"], 4)))
        signals.append((rid, "deita.rationale", res["rationales"]))
    rows = [r for r in usable if r["id"] in job.results]
    return Result(OP, {}, signals=signals, rows=rows, errors=errors, job_id=job.job_id, status=job.status,
                  usage=dict(client.usage), counts={"rated": len(rows)}, report={"structured": as_json, "probabilities": by_probs})


@dataclass
class DeitaParams(LLMParams):
    scores: list[str] = param(factory=lambda: list(SCORES), help="which DEITA scores: complexity, quality or both")
    structured: str = param("auto", choices=STRUCTURED,
                            help="JSON-schema output: auto (where the provider supports it), on, off")
    method: str = param("auto", choices=METHODS,
                        help="generate: parse the written rating; probabilities: expected score from the local "
                             "model's token probabilities, as DEITA's scorers; auto: probabilities on local/smollm2")

    def validate(self) -> None:
        super().validate()
        bad = [s for s in self.scores if s not in SCORES]
        if bad or not self.scores:
            raise ParamError(f"scores must be complexity and/or quality, not {', '.join(bad) or 'nothing'}")


class ScoreDeita(LLMOperation):
    name = OP
    Params = DeitaParams

    def describe(self, result) -> str:
        return rating_summary(result, "scored", [f"deita.{s}" for s in (*SCORES, "score")], width=17)

    def generate(self, records, client, ws, params, overrides, ctx):
        return deita_scores(records, client, ws, scores=params.scores, structured=params.structured,
                            method=params.method, concurrency=params.concurrency, on_event=ctx.on_event,
                            cancel=ctx.cancel, overrides=overrides)
