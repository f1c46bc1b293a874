"""Persona-conditioned generation: each prompt re-asked by a persona, then answered.

As in Persona Hub, a persona (one line of description) steers the model towards the
situations and needs of a kind of person, which diversifies a prompt set far more than
sampling temperature does. Each row gets one persona, drawn from a seeded RNG per row id.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Sequence

from workbench.data.errors import DataError
from workbench.data.record import Record
from workbench.llm.prompts import render
from workbench.ops.base import Result
from dataclasses import dataclass

from workbench.ops.base import param
from workbench.ops.generation.common import LLMOperation, LLMParams
from workbench.ops.generation.common import (
    errors_of, instruction, provenance, require_text, rows_with_turns, run_rows,
    strip_label, usable_answer, with_exchange,
)

OP = "persona"
PERSONA_KEYS = ("persona", "description", "text")


def load_personas(path: str | Path) -> list[str]:
    """Personas from a JSON Lines file (a `persona`, `description` or `text` field per line)
    or a plain text file (one persona per line)."""
    path = Path(path)
    out = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    raise DataError(str(path), n, f"not valid JSON: {e}") from None
                text = next((obj[k] for k in PERSONA_KEYS if isinstance(obj.get(k), str)), None)
                if not text:
                    raise DataError(str(path), n, f"no persona field (expected one of {', '.join(PERSONA_KEYS)})")
                out.append(text.strip())
            else:
                out.append(line)
    if not out:
        raise DataError(str(path), None, "no personas in file")
    return out


def persona_generate(records: Sequence[Record], personas: Sequence[str], client, ws, *, seed: int = 0,
                     concurrency: int = 4, on_event=None, cancel=None, overrides: dict | None = None) -> Result:
    if not personas:
        raise ValueError("persona generation needs at least one persona")

    def run(payload: dict) -> dict:
        prompt = render("persona", overrides, persona=payload["persona"], instruction=payload["instruction"])
        def request(text: str) -> str:  # also the client's check: a failing reply is not cached
            return require_text(strip_label(text), "persona request", min_words=3)

        asked = request(client.complete([{"role": "user", "content": prompt}], validate=request)["text"])
        out = client.complete([{"role": "user", "content": render("answer", overrides, instruction=asked)}],
                              validate=usable_answer)
        return {"instruction": asked, "answer": usable_answer(out["text"]), "persona": payload["persona"]}

    usable, errors = rows_with_turns(records)
    items = [(r["id"], {"instruction": instruction(r),
                        "persona": random.Random(f"{seed}:{r['id']}").choice(list(personas))}) for r in usable]
    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "seed": seed,
                                                "personas": list(personas), "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, [rid for rid, _ in items]))
    rows = []
    for rec in usable:
        res = job.results.get(rec["id"])
        if res is not None:
            out = provenance(rec, OP, client.model, persona=res["persona"], original=instruction(rec))
            rows.append(with_exchange(out, res["instruction"], res["answer"]))
    rewrites = [(r["id"], instruction(r), job.results[r["id"]]["instruction"]) for r in usable if r["id"] in job.results]
    return Result(OP, {}, rows=rows, errors=errors, job_id=job.job_id, status=job.status,
                  usage=dict(client.usage), rewrites=rewrites)


DEFAULT_PERSONAS = "examples/personas.jsonl"


@dataclass
class PersonaParams(LLMParams):
    personas: str = param(DEFAULT_PERSONAS, help="persona file, JSON Lines or one per line")
    seed: int = param(0, help="seed for choosing personas")


class Persona(LLMOperation):
    name = "generate-persona"
    Params = PersonaParams
    review = True

    def generate(self, records, client, ws, params, overrides, ctx):
        from workbench.paths import example_file

        personas = load_personas(example_file(params.personas))
        return persona_generate(records, personas, client, ws, seed=params.seed, concurrency=params.concurrency,
                                on_event=ctx.on_event, cancel=ctx.cancel, overrides=overrides)
